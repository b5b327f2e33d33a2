#ifndef REELFORGE_CSHERPAONNX_SHIM_H
#define REELFORGE_CSHERPAONNX_SHIM_H
// sherpa-onnx's C API (PyPI sherpa-onnx-core, installed by deploy/neural-voice.sh with a pkg-config file).
#include <sherpa-onnx/c-api/c-api.h>
#endif
