/// The dashboard served by `reelforge serve` at `/`: one page, plain JavaScript, nothing loaded from elsewhere.
enum Dashboard {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>ReelForge dashboard</title>
        <link rel="stylesheet" href="/dashboard.css">
        <script src="/dashboard.js" defer></script>
        </head>
        <body>
        <header class="topbar">
          <a class="brand" href="#/"><span class="brand-mark" aria-hidden="true">&#9654;</span> ReelForge</a>
          <nav id="nav" aria-label="Views">
            <a href="#/" data-route="overview">Overview</a>
            <a href="#/videos" data-route="videos">Videos</a>
            <a href="#/dead-letters" data-route="dead-letters">Dead letters</a>
            <a href="#/new" data-route="new">New video</a>
          </nav>
          <div class="session">
            <span id="session-info" class="session-info"></span>
            <button id="signout" type="button" class="btn btn-ghost" hidden>Sign out</button>
          </div>
        </header>
        <section id="signin" hidden>
          <form id="signin-form" class="card signin-card" autocomplete="off">
            <h2>Sign in</h2>
            <p id="signin-message" class="signin-message" role="alert" hidden></p>
            <label for="token-input">API token</label>
            <input id="token-input" name="token" type="password" autocomplete="off" spellcheck="false" required placeholder="paste a viewer or operator token">
            <button type="submit" class="btn btn-primary">Sign in</button>
            <p class="muted small">The token is sent as <code>Authorization: Bearer</code> on every API request and kept only in this tab's session storage. <code>reelforge serve</code> says where it wrote its token (<code>&lt;home&gt;/api-token</code>).</p>
          </form>
        </section>
        <main id="app" aria-live="polite"></main>
        <div id="toasts" aria-live="polite"></div>
        <noscript><p class="card">The ReelForge dashboard needs JavaScript.</p></noscript>
        </body>
        </html>
        """#
    static let css = #"""
        :root {
          --bg: #f1f3f7;
          --card: #ffffff;
          --ink: #111827;
          --muted: #6b7280;
          --line: #e5e7eb;
          --head: #0f172a;
          --head-ink: #e2e8f0;
          --accent: #2563eb;
          --green: #16a34a;
          --green-bg: #dcfce7;
          --red: #dc2626;
          --red-bg: #fee2e2;
          --grey: #6b7280;
          --grey-bg: #e5e7eb;
          --blue: #2563eb;
          --blue-bg: #dbeafe;
          --amber: #b45309;
          --amber-bg: #fef3c7;
          --mono: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace;
        }
        * { box-sizing: border-box; }
        [hidden] { display: none !important; }
        html, body { margin: 0; padding: 0; }
        body {
          font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
          background: var(--bg);
          color: var(--ink);
          min-width: 360px;
        }
        a { color: var(--accent); text-decoration: none; }
        a:hover { text-decoration: underline; }
        code, .mono { font-family: var(--mono); font-size: 12px; }
        h1, h2, h3 { margin: 0; font-weight: 600; }
        h1 { font-size: 20px; }
        h2 { font-size: 15px; }
        h3 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
        .muted { color: var(--muted); }
        .small { font-size: 12px; }

        /* header */
        .topbar {
          position: sticky; top: 0; z-index: 10;
          display: flex; align-items: center; gap: 24px;
          height: 52px; padding: 0 20px;
          background: var(--head); color: var(--head-ink);
          box-shadow: 0 1px 0 rgba(0,0,0,.4);
        }
        .brand { color: #fff; font-weight: 700; font-size: 16px; letter-spacing: .02em; white-space: nowrap; }
        .brand:hover { text-decoration: none; }
        .brand-mark { display: inline-block; color: #60a5fa; margin-right: 4px; font-size: 13px; }
        #nav { display: flex; gap: 4px; flex: 1; }
        #nav a { color: #cbd5e1; padding: 6px 12px; border-radius: 6px; white-space: nowrap; }
        #nav a:hover { background: rgba(255,255,255,.08); text-decoration: none; color: #fff; }
        body.signed-out #nav { visibility: hidden; }
        #nav a.active { background: rgba(96,165,250,.18); color: #fff; }
        .session { display: flex; align-items: center; gap: 10px; }
        .session-info { font-size: 12px; color: #94a3b8; white-space: nowrap; }
        .topbar .btn-ghost { color: #cbd5e1; border-color: #334155; background: transparent; }
        .topbar .btn-ghost:hover { background: rgba(255,255,255,.08); color: #fff; }

        /* layout */
        main { max-width: 1480px; margin: 0 auto; padding: 16px 20px 40px; }
        .stack { display: flex; flex-direction: column; gap: 16px; }
        .overview-grid { display: grid; grid-template-columns: minmax(0, 2.1fr) minmax(330px, 1fr); gap: 16px; align-items: start; }
        .video-grid { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; align-items: start; }
        @media (max-width: 1100px) {
          .overview-grid, .video-grid { grid-template-columns: minmax(0, 1fr); }
        }
        .card {
          background: var(--card); border: 1px solid var(--line); border-radius: 10px;
          box-shadow: 0 1px 2px rgba(15,23,42,.05);
          padding: 14px 16px;
          min-width: 0;
        }
        .card-head { display: flex; align-items: center; gap: 10px; margin-bottom: 10px; flex-wrap: wrap; }
        .card-head h2 { margin-right: auto; }
        .card-error {
          margin: 0 0 10px; padding: 8px 10px; border-radius: 6px;
          background: var(--red-bg); color: #991b1b; font-size: 13px;
        }
        .empty { padding: 18px; text-align: center; color: var(--muted); }

        /* buttons and forms */
        .btn {
          display: inline-flex; align-items: center; gap: 6px;
          font: inherit; font-size: 13px; line-height: 1;
          padding: 7px 12px; border-radius: 6px; cursor: pointer;
          border: 1px solid #cbd5e1; background: #fff; color: var(--ink);
          white-space: nowrap;
        }
        .btn:hover { background: #f8fafc; border-color: #94a3b8; }
        .btn:disabled { opacity: .5; cursor: not-allowed; }
        .btn-primary { background: var(--accent); border-color: var(--accent); color: #fff; }
        .btn-primary:hover { background: #1d4ed8; border-color: #1d4ed8; }
        .btn-danger { color: var(--red); border-color: #fca5a5; }
        .btn-danger:hover { background: var(--red-bg); border-color: var(--red); }
        .btn-small { padding: 5px 9px; font-size: 12px; }
        input, select, textarea {
          font: inherit; font-size: 13px; color: var(--ink);
          padding: 6px 8px; border: 1px solid #cbd5e1; border-radius: 6px; background: #fff;
        }
        input:focus, select:focus, textarea:focus { outline: 2px solid rgba(37,99,235,.35); border-color: var(--accent); }
        textarea { resize: vertical; min-height: 70px; }
        .filters { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; margin-bottom: 10px; }
        .filters input[type=search] { flex: 1; min-width: 160px; }
        .form-grid { display: grid; grid-template-columns: 160px minmax(0, 1fr); gap: 10px 14px; align-items: center; max-width: 760px; }
        .form-grid label { font-weight: 500; color: #374151; }
        .form-grid .hint { grid-column: 2; margin-top: -6px; font-size: 12px; color: var(--muted); }
        .form-actions { grid-column: 2; display: flex; gap: 8px; align-items: center; }
        .field-row { display: flex; gap: 8px; align-items: center; }
        .swatch { display: inline-block; width: 18px; height: 18px; border-radius: 4px; border: 1px solid rgba(0,0,0,.2); vertical-align: middle; }

        /* sign in */
        #signin { display: flex; justify-content: center; padding: 60px 20px; }
        .signin-card { width: 420px; display: flex; flex-direction: column; gap: 10px; }
        .signin-card input { width: 100%; }
        .signin-message { margin: 0; padding: 8px 10px; border-radius: 6px; background: var(--amber-bg); color: #78350f; }

        /* badges */
        .badge {
          display: inline-block; padding: 2px 8px; border-radius: 999px;
          font-size: 11.5px; font-weight: 600; line-height: 18px; white-space: nowrap;
          background: var(--grey-bg); color: #374151;
        }
        .s-completed, .o-succeeded { background: var(--green-bg); color: #166534; }
        .s-failed, .o-permanent, .o-failed { background: var(--red-bg); color: #991b1b; }
        .s-cancelled, .o-cancelled { background: var(--grey-bg); color: #4b5563; }
        .s-processing, .o-started, .o-running { background: var(--blue-bg); color: #1e40af; }
        .s-queued, .o-transient, .o-retrying { background: var(--amber-bg); color: #92400e; }
        .badge.stage { background: #ede9fe; color: #5b21b6; }
        .badge.kind-permanent { background: var(--red-bg); color: #991b1b; }
        .badge.kind-transient { background: var(--amber-bg); color: #92400e; }

        /* progress */
        .progress { position: relative; height: 16px; min-width: 90px; background: #e5e7eb; border-radius: 999px; overflow: hidden; }
        .progress .fill { position: absolute; inset: 0 auto 0 0; background: var(--blue); border-radius: 999px; transition: width .4s ease; }
        .progress.s-completed .fill { background: var(--green); }
        .progress.s-failed .fill { background: var(--red); }
        .progress.s-cancelled .fill { background: #9ca3af; }
        .progress.s-queued .fill { background: #f59e0b; }
        .progress.s-processing .fill {
          background-image: linear-gradient(45deg, rgba(255,255,255,.18) 25%, transparent 25%, transparent 50%, rgba(255,255,255,.18) 50%, rgba(255,255,255,.18) 75%, transparent 75%);
          background-size: 16px 16px;
          animation: stripes 1s linear infinite;
        }
        @keyframes stripes { from { background-position: 16px 0; } to { background-position: 0 0; } }
        .progress .pct { position: relative; display: block; text-align: center; font-size: 10.5px; font-weight: 600; line-height: 16px; color: #111827; mix-blend-mode: normal; }
        .progress.big { height: 22px; }
        .progress.big .pct { line-height: 22px; font-size: 12px; }

        /* tables */
        .table-wrap { overflow-x: auto; }
        table { width: 100%; border-collapse: collapse; }
        th, td { text-align: left; padding: 7px 8px; border-bottom: 1px solid var(--line); vertical-align: middle; }
        th { font-size: 11.5px; font-weight: 600; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); background: #f9fafb; }
        tbody tr:hover { background: #f8fafc; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        tfoot td { font-weight: 600; border-bottom: none; }
        #videos tbody tr[data-id] { cursor: pointer; }
        #videos td.id-cell { max-width: 170px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
        #videos td.idea-cell { width: 100%; max-width: 0; min-width: 120px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
        #videos td.progress-cell { width: 120px; }
        #videos td.time-cell, #videos th { white-space: nowrap; }
        td.message { white-space: pre-wrap; word-break: break-word; font-size: 12.5px; }
        .more-row { display: flex; justify-content: center; align-items: center; gap: 10px; padding-top: 10px; }

        /* pipeline */
        .tiles { display: grid; grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 10px; margin-bottom: 12px; }
        .tile {
          display: block; padding: 10px 12px; border-radius: 8px; border: 1px solid var(--line);
          background: #f9fafb; color: var(--ink); border-left: 4px solid #9ca3af;
        }
        .tile:hover { text-decoration: none; background: #f3f4f6; }
        .tile .n { font-size: 22px; font-weight: 700; font-variant-numeric: tabular-nums; line-height: 1.1; }
        .tile .l { font-size: 12px; color: var(--muted); text-transform: capitalize; }
        .tile.s-queued { border-left-color: #f59e0b; background: #fffbeb; }
        .tile.s-processing { border-left-color: var(--blue); background: #eff6ff; }
        .tile.s-completed { border-left-color: var(--green); background: #f0fdf4; }
        .tile.s-failed { border-left-color: var(--red); background: #fef2f2; }
        .tile.s-cancelled { border-left-color: #9ca3af; background: #f9fafb; }
        .tile.total { border-left-color: var(--head); }
        .tile.s-queued, .tile.s-processing, .tile.s-completed, .tile.s-failed, .tile.s-cancelled { color: var(--ink); }
        .flow { display: flex; align-items: stretch; gap: 0; }
        .flow .arrow { display: flex; align-items: center; padding: 0 6px; color: #9ca3af; font-size: 18px; }
        .stage-card { flex: 1; min-width: 0; border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; background: #fff; }
        .stage-card .name { font-weight: 700; text-transform: capitalize; margin-bottom: 6px; display: flex; justify-content: space-between; }
        .stage-card .ready { font-size: 22px; font-weight: 700; font-variant-numeric: tabular-nums; line-height: 1.1; }
        .stage-card .ready-l { font-size: 11.5px; color: var(--muted); margin-bottom: 6px; }
        .kv { display: flex; justify-content: space-between; gap: 8px; font-size: 12.5px; color: #374151; }
        .kv span:last-child { font-variant-numeric: tabular-nums; font-weight: 600; }
        .kv.warn span:last-child { color: var(--red); }
        .kv.warn a { color: var(--red); font-weight: 600; }
        .stage-card.has-parked { border-color: #fca5a5; }
        @media (max-width: 900px) {
          .tiles { grid-template-columns: repeat(3, minmax(0, 1fr)); }
          .flow { flex-wrap: wrap; gap: 8px; }
          .flow .arrow { display: none; }
          .stage-card { flex-basis: 45%; }
        }

        /* dead letters */
        #dead-letters { display: flex; flex-direction: column; gap: 10px; }
        .dlq-group { border: 1px solid var(--line); border-left: 4px solid var(--amber); border-radius: 8px; padding: 10px 12px; background: #fff; }
        .dlq-group[data-kind=permanent] { border-left-color: var(--red); }
        .dlq-head { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
        .dlq-count { margin-left: auto; font-weight: 700; font-size: 16px; font-variant-numeric: tabular-nums; }
        .dlq-cause { margin: 8px 0 6px; padding: 6px 8px; background: #f8fafc; border-radius: 6px; font-family: var(--mono); font-size: 12px; white-space: pre-wrap; word-break: break-word; }
        .dlq-meta { display: flex; gap: 14px; flex-wrap: wrap; font-size: 12px; color: var(--muted); }
        .dlq-jobs summary { cursor: pointer; font-size: 12px; color: var(--muted); margin-top: 4px; }
        .dlq-jobs ul { margin: 4px 0 0; padding-left: 18px; max-height: 140px; overflow: auto; font-family: var(--mono); font-size: 12px; }
        .dlq-actions { display: flex; gap: 6px; margin-top: 8px; flex-wrap: wrap; }
        .dlq-edits { margin-top: 8px; padding: 10px; background: #f8fafc; border: 1px dashed #cbd5e1; border-radius: 6px; display: grid; grid-template-columns: 90px minmax(0, 1fr); gap: 6px 10px; align-items: center; }
        .dlq-edits .form-actions { grid-column: 1 / -1; }

        /* video page */
        .video-head { display: flex; gap: 14px; align-items: flex-start; flex-wrap: wrap; }
        .video-head .title { flex: 1; min-width: 280px; }
        .video-head .title h1 { font-family: var(--mono); font-size: 17px; word-break: break-all; display: flex; gap: 10px; align-items: center; flex-wrap: wrap; }
        .video-head .idea { font-size: 16px; margin-top: 6px; white-space: pre-wrap; word-break: break-word; }
        .actions { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
        .live { display: inline-flex; align-items: center; gap: 6px; font-size: 12px; color: var(--muted); font-weight: 400; font-family: system-ui, sans-serif; }
        .live .dot { width: 8px; height: 8px; border-radius: 50%; background: #9ca3af; }
        .live.on .dot { background: var(--green); box-shadow: 0 0 0 3px rgba(22,163,74,.2); }
        .live.retrying .dot { background: #f59e0b; }
        dl.details { display: grid; grid-template-columns: 130px minmax(0, 1fr); gap: 6px 12px; margin: 0; }
        dl.details dt { color: var(--muted); font-size: 12.5px; }
        dl.details dd { margin: 0; word-break: break-word; }
        .player { width: 100%; max-height: 520px; background: #000; border-radius: 8px; display: block; }
        .player-box { display: flex; flex-direction: column; gap: 8px; }
        .player-placeholder { padding: 30px 10px; text-align: center; color: var(--muted); background: #f8fafc; border-radius: 8px; border: 1px dashed #cbd5e1; }
        .files { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 4px; }
        .files li { display: flex; justify-content: space-between; gap: 10px; align-items: center; padding: 4px 0; border-bottom: 1px solid var(--line); }
        .files li:last-child { border-bottom: none; }
        .attempts-table td, .attempts-table th { text-align: center; }
        .attempts-table td.warn { color: var(--amber); font-weight: 700; }
        .outcome-row-failed td { background: #fffafa; }

        /* toasts */
        #toasts { position: fixed; right: 16px; bottom: 16px; z-index: 50; display: flex; flex-direction: column; gap: 8px; max-width: 420px; }
        .toast { display: flex; gap: 10px; align-items: flex-start; padding: 10px 12px; border-radius: 8px; background: #1f2937; color: #f9fafb; box-shadow: 0 6px 18px rgba(0,0,0,.2); font-size: 13px; }
        .toast.error { background: #7f1d1d; }
        .toast.ok { background: #14532d; }
        .toast button { margin-left: auto; background: none; border: none; color: inherit; cursor: pointer; font-size: 16px; line-height: 1; padding: 0 2px; opacity: .8; }
        .result { margin-top: 14px; padding: 10px 12px; border-radius: 8px; background: var(--green-bg); color: #14532d; }
        .result.error { background: var(--red-bg); color: #7f1d1d; }
        """#
    static let javascript = #"""
        (function () {
          "use strict";

          const TOKEN_KEY = "reelforge.token";
          const STAGES = ["script", "adapt", "audio", "video"];
          const STATUSES = ["queued", "processing", "completed", "failed", "cancelled"];
          const FINAL = new Set(["completed", "failed", "cancelled"]);
          const PAGE_SIZE = 50;

          // ---------------------------------------------------------------- DOM helpers (text only, never innerHTML)
          function h(tag, props) {
            const el = document.createElement(tag);
            if (props) {
              for (const key of Object.keys(props)) {
                const v = props[key];
                if (v === null || v === undefined || v === false) continue;
                if (key === "text") el.textContent = String(v);
                else if (key === "class") el.className = String(v);
                else if (key === "dataset") { for (const d of Object.keys(v)) el.dataset[d] = v[d] == null ? "" : String(v[d]); }
                else if (key.startsWith("on") && typeof v === "function") el.addEventListener(key.slice(2), v);
                else if (key === "value" || key === "checked" || key === "selected" || key === "disabled") el[key] = v;
                else el.setAttribute(key, v === true ? "" : String(v));
              }
            }
            for (let i = 2; i < arguments.length; i++) add(el, arguments[i]);
            return el;
          }
          function add(el, kid) {
            if (kid === null || kid === undefined || kid === false) return;
            if (Array.isArray(kid)) { for (const k of kid) add(el, k); return; }
            el.append(kid instanceof Node ? kid : String(kid));
          }
          const $ = (id) => document.getElementById(id);
          const cls = (s) => String(s == null ? "" : s).toLowerCase().replace(/[^a-z0-9_-]/g, "");
          const enc = encodeURIComponent;

          // ---------------------------------------------------------------- formatting
          function parseDate(iso) { if (!iso) return null; const d = new Date(iso); return isNaN(d.getTime()) ? null : d; }
          function fmtTime(iso) { const d = parseDate(iso); return d ? d.toLocaleString() : (iso ? String(iso) : "—"); }
          function fmtClock(iso) {
            const d = parseDate(iso);
            if (!d) return iso ? String(iso) : "—";
            const today = new Date();
            const t = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
            return d.toDateString() === today.toDateString() ? t : d.toLocaleDateString() + " " + t;
          }
          function ago(iso) {
            const d = parseDate(iso);
            if (!d) return iso ? String(iso) : "—";
            const s = Math.round((Date.now() - d.getTime()) / 1000);
            if (s < 0) return "just now";
            if (s < 60) return s + "s ago";
            if (s < 3600) return Math.floor(s / 60) + "m ago";
            if (s < 86400) return Math.floor(s / 3600) + "h ago";
            return Math.floor(s / 86400) + "d ago";
          }
          function timeEl(iso, relative) {
            return h("time", { datetime: iso || null, title: fmtTime(iso) }, relative ? ago(iso) : fmtClock(iso));
          }
          function fmtUsd(n) {
            if (n === null || n === undefined || n === "" || isNaN(Number(n))) return "—";
            const x = Number(n);
            return "$" + (x !== 0 && Math.abs(x) < 0.01 ? x.toFixed(4) : x.toFixed(x >= 100 ? 2 : 3));
          }
          function fmtBytes(n) {
            if (n === null || n === undefined || isNaN(Number(n))) return "";
            const x = Number(n);
            if (x < 1024) return x + " B";
            if (x < 1048576) return (x / 1024).toFixed(1) + " KB";
            if (x < 1073741824) return (x / 1048576).toFixed(1) + " MB";
            return (x / 1073741824).toFixed(2) + " GB";
          }
          function fmtNum(n) { return n === null || n === undefined ? "—" : (typeof n === "number" ? n.toLocaleString() : String(n)); }
          function fmtSeconds(n) {
            if (n === null || n === undefined || isNaN(Number(n))) return "—";
            const x = Number(n);
            return x < 10 ? x.toFixed(2) + " s" : x < 120 ? x.toFixed(1) + " s" : (x / 60).toFixed(1) + " min";
          }
          function labelize(k) { return String(k).replace(/_/g, " "); }

          function badge(status) { return h("span", { class: "badge s-" + cls(status) }, status || "—"); }
          function outcomeBadge(o) { return h("span", { class: "badge o-" + cls(o) }, o || "—"); }
          function stageBadge(s) { return s ? h("span", { class: "badge stage" }, s) : h("span", { class: "muted" }, "—"); }
          function progressBar(p, status, big) {
            const pct = Math.max(0, Math.min(100, Math.round(Number(p) || 0)));
            const fill = h("div", { class: "fill" });
            fill.style.width = pct + "%";
            return h("div", {
              class: "progress s-" + cls(status) + (big ? " big" : ""), role: "progressbar",
              "aria-valuemin": 0, "aria-valuemax": 100, "aria-valuenow": pct, title: pct + "%"
            }, fill, h("span", { class: "pct" }, pct + "%"));
          }
          function table(headers, rows, opts) {
            const o = opts || {};
            const thead = h("thead", null, h("tr", null, headers.map((x) => {
              const [label, c] = Array.isArray(x) ? x : [x, null];
              return h("th", { class: c }, label);
            })));
            const tbody = h("tbody", null, rows);
            if (!rows.length) tbody.append(h("tr", null, h("td", { colspan: headers.length, class: "empty" }, o.empty || "Nothing yet.")));
            return h("div", { class: "table-wrap" }, h("table", { id: o.id || null, class: o.class || null }, thead, tbody, o.foot || null));
          }

          // ---------------------------------------------------------------- toasts
          function toast(message, kind, ms) {
            const close = h("button", { type: "button", "aria-label": "Dismiss" }, "×");
            const el = h("div", { class: "toast " + (kind || ""), role: kind === "error" ? "alert" : "status" }, h("span", null, message), close);
            const remove = () => el.remove();
            close.addEventListener("click", remove);
            $("toasts").append(el);
            setTimeout(remove, ms || (kind === "error" ? 10000 : 5000));
          }

          // ---------------------------------------------------------------- token and API
          class ApiError extends Error {
            constructor(status, code, message) { super(message); this.status = status; this.code = code; }
          }
          function getToken() { try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch (e) { return ""; } }
          function setToken(t) { try { if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* storage disabled */ } }

          async function apiFetch(path, opts) {
            const o = Object.assign({}, opts || {});
            const headers = new Headers(o.headers || {});
            headers.set("Authorization", "Bearer " + getToken());
            if (!headers.has("Accept")) headers.set("Accept", "application/json");
            o.headers = headers;
            o.cache = "no-store";
            let res;
            try {
              res = await fetch(path, o);
            } catch (e) {
              if (e && e.name === "AbortError") throw e;
              throw new ApiError(0, "network", "cannot reach the API (" + (e && e.message ? e.message : "network error") + ")");
            }
            if (res.status === 401) {
              let message = "";
              try { const j = await res.json(); message = j && j.error && j.error.message ? j.error.message : ""; } catch (e) { /* not JSON */ }
              signOut("The API did not accept this token (401" + (message ? ": " + message : "") + "). Sign in again.");
              throw new ApiError(401, "unauthorized", message || "unauthorized");
            }
            if (!res.ok) {
              let code = "http_" + res.status;
              let message = "HTTP " + res.status + (res.statusText ? " " + res.statusText : "");
              try {
                const j = await res.json();
                if (j && j.error) { code = j.error.code || code; message = j.error.message || message; }
              } catch (e) { /* not JSON */ }
              throw new ApiError(res.status, code, message);
            }
            return res;
          }
          async function api(path, opts) {
            const res = await apiFetch(path, opts);
            const text = await res.text();
            return text ? JSON.parse(text) : null;
          }
          async function postJSON(path, body, headers) {
            const res = await apiFetch(path, {
              method: "POST",
              headers: Object.assign({ "Content-Type": "application/json" }, headers || {}),
              body: JSON.stringify(body === undefined ? {} : body)
            });
            const text = await res.text();
            let json = null;
            try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
            return { status: res.status, json: json };
          }
          const VIEWER_MESSAGE = "Forbidden (403): your token is a viewer token; this needs an operator token.";
          // Runs an operator action; reports 403 as "viewer token" and other failures as a toast. Returns undefined on failure.
          async function operator(label, fn) {
            try {
              return await fn();
            } catch (e) {
              if (e && e.status === 403) toast(VIEWER_MESSAGE, "error");
              else if (e && e.status !== 401) toast(label + " failed: " + (e && e.message ? e.message : String(e)), "error");
              return undefined;
            }
          }
          function errorText(e) {
            if (!e) return "";
            if (e.status === 403) return VIEWER_MESSAGE;
            if (e.status === 0) return e.message;
            return (e.status ? e.status + " " : "") + (e.code ? e.code + ": " : "") + (e.message || String(e));
          }
          function setError(el, e) {
            if (!e || e.status === 401) { el.hidden = true; el.textContent = ""; return; }
            el.textContent = errorText(e);
            el.hidden = false;
          }
          function fileUrl(id, name, file) {
            // Only ever send the token to this origin's API.
            const u = file && typeof file.url === "string" ? file.url : "";
            if (u.startsWith("/v1/") && !u.startsWith("//")) return u;
            return "/v1/videos/" + enc(id) + "/files/" + enc(name);
          }
          function uuid() {
            if (window.crypto && typeof crypto.randomUUID === "function") {
              try { return crypto.randomUUID(); } catch (e) { /* insecure context */ }
            }
            const b = new Uint8Array(16);
            crypto.getRandomValues(b);
            b[6] = (b[6] & 0x0f) | 0x40;
            b[8] = (b[8] & 0x3f) | 0x80;
            const x = Array.from(b, (v) => v.toString(16).padStart(2, "0")).join("");
            return x.slice(0, 8) + "-" + x.slice(8, 12) + "-" + x.slice(12, 16) + "-" + x.slice(16, 20) + "-" + x.slice(20);
          }

          // ---------------------------------------------------------------- view lifecycle
          let view = null;
          function startView() {
            stopView();
            view = { alive: true, cleanups: [] };
            return view;
          }
          function stopView() {
            if (!view) return;
            view.alive = false;
            for (const c of view.cleanups) { try { c(); } catch (e) { /* ignore */ } }
            view = null;
          }
          // Calls fn now and then again `ms` (a number or a function returning one) after each run ends; skips while the tab is hidden.
          function poll(v, ms, fn) {
            let timer = null;
            const tick = async () => {
              timer = null;
              if (!v.alive) return;
              if (!document.hidden) { try { await fn(); } catch (e) { /* reported by fn */ } }
              if (v.alive) timer = setTimeout(tick, typeof ms === "function" ? ms() : ms);
            };
            const now = () => { if (timer !== null) { clearTimeout(timer); tick(); } };
            v.cleanups.push(() => { if (timer !== null) clearTimeout(timer); timer = null; });
            tick();
            return now;
          }

          // ---------------------------------------------------------------- sign in / out
          function signOut(message) {
            stopView();
            setToken("");
            $("app").replaceChildren();
            $("signin").hidden = false;
            $("signout").hidden = true;
            document.body.classList.add("signed-out");
            $("session-info").textContent = "";
            const m = $("signin-message");
            m.textContent = message || "";
            m.hidden = !message;
            for (const a of document.querySelectorAll("#nav a")) a.classList.remove("active");
            setTimeout(() => { const i = $("token-input"); if (i) i.focus(); }, 0);
          }
          function signedIn() {
            $("signin").hidden = true;
            $("signout").hidden = false;
            document.body.classList.remove("signed-out");
            const t = getToken();
            $("session-info").textContent = "token …" + t.slice(-4);
          }

          // ---------------------------------------------------------------- routing
          function parseRoute() {
            let raw = (location.hash || "").replace(/^#/, "");
            if (!raw.startsWith("/")) raw = "/" + raw;
            const qi = raw.indexOf("?");
            const path = qi >= 0 ? raw.slice(0, qi) : raw;
            const query = new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : "");
            const m = path.match(/^\/videos\/([^/]+)\/?$/);
            if (m) {
              let id = m[1];
              try { id = decodeURIComponent(id); } catch (e) { /* keep raw */ }
              return { name: "video", id: id, query: query };
            }
            if (/^\/videos\/?$/.test(path)) return { name: "videos", query: query };
            if (/^\/dead-letters\/?$/.test(path)) return { name: "dead-letters", query: query };
            if (/^\/new\/?$/.test(path)) return { name: "new", query: query };
            return { name: "overview", query: query };
          }
          function route() {
            if (!getToken()) { signOut(""); return; }
            signedIn();
            const r = parseRoute();
            const v = startView();
            for (const a of document.querySelectorAll("#nav a")) a.classList.toggle("active", a.dataset.route === (r.name === "video" ? "videos" : r.name));
            const app = $("app");
            app.replaceChildren();
            window.scrollTo(0, 0);
            if (r.name === "overview") {
              document.title = "ReelForge — overview";
              const left = h("div", { class: "stack" });
              const right = h("div", { class: "stack" });
              app.append(h("div", { class: "stack" }, mountPipeline(v), h("div", { class: "overview-grid" }, left, right)));
              left.append(mountVideos(v, { status: r.query.get("status") || "", stage: r.query.get("stage") || "", q: r.query.get("q") || "" }));
              right.append(mountDeadLetters(v, true));
            } else if (r.name === "videos") {
              document.title = "ReelForge — videos";
              app.append(mountVideos(v, { status: r.query.get("status") || "", stage: r.query.get("stage") || "", q: r.query.get("q") || "" }));
            } else if (r.name === "dead-letters") {
              document.title = "ReelForge — dead letters";
              app.append(mountDeadLetters(v, false));
            } else if (r.name === "new") {
              document.title = "ReelForge — new video";
              app.append(mountNewVideo(v));
            } else if (r.name === "video") {
              document.title = "ReelForge — " + r.id;
              app.append(mountVideo(v, r.id));
            }
          }

          // ---------------------------------------------------------------- pipeline overview
          function mountPipeline(v) {
            const err = h("p", { class: "card-error", hidden: true });
            const updated = h("span", { class: "muted small" });
            const body = h("div", null, h("p", { class: "muted" }, "Loading pipeline…"));
            const section = h("section", { id: "pipeline", class: "card" },
              h("div", { class: "card-head" }, h("h2", null, "Pipeline"), updated), err, body);
            poll(v, 5000, async () => {
              try {
                const p = await api("/v1/pipeline");
                if (!v.alive) return;
                renderPipeline(body, p || {});
                setError(err, null);
                updated.textContent = "updated " + new Date().toLocaleTimeString() + " · every 5 s";
              } catch (e) {
                if (v.alive) setError(err, e);
              }
            });
            return section;
          }
          function renderPipeline(body, p) {
            const counts = p.videos || {};
            const statuses = STATUSES.concat(Object.keys(counts).filter((s) => !STATUSES.includes(s)));
            let total = 0;
            for (const s of statuses) total += Number(counts[s]) || 0;
            const tiles = h("div", { class: "tiles", id: "pipeline-videos" },
              h("a", { class: "tile total", href: "#/videos" }, h("div", { class: "n" }, fmtNum(total)), h("div", { class: "l" }, "all videos")),
              statuses.map((s) =>
                h("a", { class: "tile s-" + cls(s), href: "#/videos?status=" + enc(s), dataset: { status: s } },
                  h("div", { class: "n" }, fmtNum(Number(counts[s]) || 0)), h("div", { class: "l" }, s))));

            // queues: "script", "script.delayed", "script.parked", … → per stage: ready / delay / parked (+ any other suffix)
            const queues = p.queues || {};
            const stats = p.stages || {};
            const perStage = {};
            const stageNames = STAGES.slice();
            const noteStage = (s) => { if (!stageNames.includes(s)) stageNames.push(s); if (!perStage[s]) perStage[s] = {}; return perStage[s]; };
            for (const key of Object.keys(queues)) {
              const dot = key.indexOf(".");
              const stage = dot >= 0 ? key.slice(0, dot) : key;
              const suffix = dot >= 0 ? key.slice(dot + 1) : "ready";
              const kind = suffix === "delayed" ? "delay" : suffix;
              noteStage(stage)[kind] = queues[key];
            }
            for (const s of Object.keys(stats)) noteStage(s);
            const cards = [];
            stageNames.forEach((s, i) => {
              const q = perStage[s] || {};
              const st = stats[s] || {};
              const parked = Number(q.parked) || 0;
              const rows = [
                h("div", { class: "kv" }, h("span", null, "delayed (retry)"), h("span", null, fmtNum(Number(q.delay) || 0))),
                h("div", { class: "kv" + (parked > 0 ? " warn" : ""), dataset: { queue: s + ".parked" } }, h("span", null, "parked"),
                  parked > 0 ? h("span", null, h("a", { href: "#/dead-letters" }, fmtNum(parked))) : h("span", null, "0"))
              ];
              for (const k of Object.keys(q)) {
                if (k === "ready" || k === "delay" || k === "parked") continue;
                rows.push(h("div", { class: "kv" }, h("span", null, labelize(k)), h("span", null, fmtNum(q[k]))));
              }
              rows.push(h("div", { class: "kv" }, h("span", null, "runs"), h("span", null, fmtNum(st.runs === undefined ? 0 : st.runs))));
              rows.push(h("div", { class: "kv" }, h("span", null, "mean run"), h("span", null, fmtSeconds(st.mean_seconds))));
              for (const k of Object.keys(st)) {
                if (k === "runs" || k === "mean_seconds") continue;
                const val = st[k];
                rows.push(h("div", { class: "kv" }, h("span", null, labelize(k)),
                  h("span", null, /seconds$/.test(k) ? fmtSeconds(val) : (typeof val === "object" ? JSON.stringify(val) : fmtNum(val)))));
              }
              if (i > 0) cards.push(h("div", { class: "arrow", "aria-hidden": "true" }, "→"));
              cards.push(h("div", { class: "stage-card" + (parked > 0 ? " has-parked" : ""), dataset: { stage: s } },
                h("div", { class: "name" }, h("span", null, s)),
                h("div", { class: "ready" }, fmtNum(Number(q.ready) || 0)),
                h("div", { class: "ready-l" }, "waiting in queue"),
                rows));
            });
            body.replaceChildren(tiles, h("div", { class: "flow", id: "pipeline-stages" }, cards));
          }

          // ---------------------------------------------------------------- videos table
          function mountVideos(v, initial) {
            const f = { status: initial.status || "", stage: initial.stage || "", q: initial.q || "" };
            let videos = [];
            let nextCursor = null;
            let pages = 0;
            let version = 0;
            let loaded = false;

            const err = h("p", { class: "card-error", hidden: true });
            const count = h("span", { class: "muted small" });
            const statusSel = h("select", { "aria-label": "Status", id: "filter-status" },
              h("option", { value: "" }, "All statuses"), STATUSES.map((s) => h("option", { value: s }, s)));
            const stageSel = h("select", { "aria-label": "Stage", id: "filter-stage" },
              h("option", { value: "" }, "All stages"), STAGES.map((s) => h("option", { value: s }, s)));
            const search = h("input", { type: "search", placeholder: "Search ideas…", "aria-label": "Search", id: "filter-q" });
            statusSel.value = f.status;
            stageSel.value = f.stage;
            search.value = f.q;
            const refreshBtn = h("button", { type: "button", class: "btn btn-small", title: "Refresh now" }, "↻ Refresh");
            const tbody = h("tbody");
            const tbl = h("table", { id: "videos" },
              h("thead", null, h("tr", null,
                h("th", null, "ID"), h("th", null, "Idea"), h("th", null, "Status"), h("th", null, "Stage"),
                h("th", null, "Progress"), h("th", { class: "num" }, "Cost"), h("th", null, "Created"))),
              tbody);
            const moreBtn = h("button", { type: "button", class: "btn", hidden: true }, "More");
            const moreRow = h("div", { class: "more-row" }, moreBtn);

            function query(cursor) {
              const q = new URLSearchParams();
              if (f.status) q.set("status", f.status);
              if (f.stage) q.set("stage", f.stage);
              if (f.q) q.set("q", f.q);
              q.set("limit", String(PAGE_SIZE));
              if (cursor) q.set("cursor", cursor);
              return "/v1/videos?" + q.toString();
            }
            function render() {
              const rows = videos.map((x) => {
                const tr = h("tr", { dataset: { id: x.id, status: x.status || "", stage: x.stage || "" } },
                  h("td", { class: "id-cell mono", title: x.id }, h("a", { href: "#/videos/" + enc(x.id) }, x.id)),
                  h("td", { class: "idea-cell", title: x.idea || "" }, x.idea || ""),
                  h("td", null, badge(x.status)),
                  h("td", null, stageBadge(x.stage)),
                  h("td", { class: "progress-cell" }, progressBar(x.progress, x.status)),
                  h("td", { class: "num" }, fmtUsd(x.cost_usd)),
                  h("td", { class: "time-cell" }, timeEl(x.created_at, true)));
                tr.addEventListener("click", (ev) => {
                  if (ev.target.closest("a")) return;
                  location.hash = "#/videos/" + enc(x.id);
                });
                return tr;
              });
              if (!rows.length) {
                rows.push(h("tr", null, h("td", { colspan: 7, class: "empty" },
                  loaded ? (f.status || f.stage || f.q ? "No videos match these filters." : "No videos yet. ") : "Loading…",
                  loaded && !(f.status || f.stage || f.q) ? h("a", { href: "#/new" }, "Create one") : null)));
              }
              tbody.replaceChildren(...rows);
              moreBtn.hidden = !nextCursor;
              const active = videos.filter((x) => !FINAL.has(x.status)).length;
              count.textContent = videos.length + (nextCursor ? "+" : "") + " shown" + (active ? " · " + active + " live, refreshing every 3 s" : "");
            }
            async function refresh(reset) {
              const ver = version;
              try {
                const data = await api(query(null));
                if (!v.alive || ver !== version) return;
                const list = (data && data.videos) || [];
                if (reset || pages <= 1) {
                  videos = list;
                  nextCursor = data ? data.next_cursor || null : null;
                  pages = 1;
                } else {
                  // more pages are shown: update rows in place, put new ones on top
                  const byId = new Map(list.map((x) => [x.id, x]));
                  videos = videos.map((x) => byId.get(x.id) || x);
                  const known = new Set(videos.map((x) => x.id));
                  const fresh = list.filter((x) => !known.has(x.id));
                  videos = fresh.concat(videos);
                }
                loaded = true;
                setError(err, null);
                render();
              } catch (e) {
                if (v.alive && ver === version) { setError(err, e); if (!loaded) { loaded = true; render(); } }
              }
            }
            async function more() {
              if (!nextCursor) return;
              const ver = version;
              moreBtn.disabled = true;
              try {
                const data = await api(query(nextCursor));
                if (!v.alive || ver !== version) return;
                const known = new Set(videos.map((x) => x.id));
                videos = videos.concat(((data && data.videos) || []).filter((x) => !known.has(x.id)));
                nextCursor = data ? data.next_cursor || null : null;
                pages += 1;
                setError(err, null);
                render();
              } catch (e) {
                if (v.alive) setError(err, e);
              } finally {
                moreBtn.disabled = false;
              }
            }
            function filtersChanged() {
              f.status = statusSel.value;
              f.stage = stageSel.value;
              f.q = search.value.trim();
              version += 1;
              videos = [];
              nextCursor = null;
              pages = 0;
              loaded = false;
              render();
              refresh(true);
            }
            let debounce = null;
            statusSel.addEventListener("change", filtersChanged);
            stageSel.addEventListener("change", filtersChanged);
            search.addEventListener("input", () => { clearTimeout(debounce); debounce = setTimeout(filtersChanged, 300); });
            v.cleanups.push(() => clearTimeout(debounce));
            moreBtn.addEventListener("click", more);
            render();
            const now = poll(v, () => (videos.some((x) => !FINAL.has(x.status)) ? 3000 : 15000), () => refresh(false));
            refreshBtn.addEventListener("click", now);

            return h("section", { class: "card", id: "videos-card" },
              h("div", { class: "card-head" }, h("h2", null, "Videos"), count, refreshBtn, h("a", { class: "btn btn-small btn-primary", href: "#/new" }, "+ New video")),
              h("div", { class: "filters" }, statusSel, stageSel, search),
              err, h("div", { class: "table-wrap" }, tbl), moreRow);
          }

          // ---------------------------------------------------------------- dead letters
          function mountDeadLetters(v, compact) {
            const err = h("p", { class: "card-error", hidden: true });
            const summary = h("span", { class: "muted small" });
            const list = h("div", { id: "dead-letters" }, h("p", { class: "muted" }, "Loading dead letters…"));
            const groups = new Map();
            let loaded = false;

            async function load() {
              try {
                const data = await api("/v1/dead-letters");
                if (!v.alive) return;
                render((data && data.groups) || []);
                setError(err, null);
              } catch (e) {
                if (v.alive) setError(err, e);
              }
            }
            function render(gs) {
              loaded = true;
              const seen = new Set();
              const els = [];
              let total = 0;
              for (const g of gs) {
                const key = g.group || [g.stage, g.kind, g.cause].join("|");
                seen.add(key);
                total += Number(g.count) || 0;
                let entry = groups.get(key);
                if (!entry) { entry = groupEntry(key); groups.set(key, entry); }
                entry.update(g);
                els.push(entry.el);
              }
              for (const k of Array.from(groups.keys())) if (!seen.has(k)) groups.delete(k);
              if (!els.length) els.push(h("p", { class: "empty" }, "No dead letters — nothing is parked."));
              list.replaceChildren(...els);
              summary.textContent = gs.length ? gs.length + (gs.length === 1 ? " group · " : " groups · ") + total + " parked" : "";
            }
            function target(g) { return g.group ? { group: g.group } : { job_ids: g.job_ids || [] }; }
            function groupEntry(key) {
              let g = null;
              const el = h("div", { class: "dlq-group" });
              const head = h("div", { class: "dlq-head" });
              const cause = h("div", { class: "dlq-cause" });
              const meta = h("div", { class: "dlq-meta" });
              const jobs = h("details", { class: "dlq-jobs" });
              const replayBtn = h("button", { type: "button", class: "btn btn-small btn-primary" }, "Replay group");
              const editBtn = h("button", { type: "button", class: "btn btn-small" }, "Replay with edits");
              const purgeBtn = h("button", { type: "button", class: "btn btn-small btn-danger" }, "Purge");
              const bg = h("input", { type: "text", placeholder: "#000000", name: "background", "aria-label": "background" });
              const footage = h("input", { type: "text", placeholder: "pexels,generated", name: "footage", "aria-label": "footage" });
              const style = h("select", { name: "style", "aria-label": "style" }, h("option", { value: "" }, "(unchanged)"), ["classic", "shorts"].map((s) => h("option", { value: s }, s)));
              const format = h("select", { name: "format", "aria-label": "format" }, h("option", { value: "" }, "(unchanged)"), ["9:16", "1:1", "16:9"].map((s) => h("option", { value: s }, s)));
              const sendEdits = h("button", { type: "submit", class: "btn btn-small btn-primary" }, "Replay with these edits");
              const cancelEdits = h("button", { type: "button", class: "btn btn-small" }, "Cancel");
              const form = h("form", { class: "dlq-edits", hidden: true },
                h("label", null, "background"), bg, h("label", null, "footage"), footage,
                h("label", null, "style"), style, h("label", null, "format"), format,
                h("div", { class: "form-actions" }, sendEdits, cancelEdits, h("span", { class: "muted small" }, "Empty fields stay as they are.")));
              el.append(head, cause, meta, jobs, h("div", { class: "dlq-actions" }, replayBtn, editBtn, purgeBtn), form);

              const busy = (b) => { for (const x of [replayBtn, editBtn, purgeBtn, sendEdits]) x.disabled = b; };
              async function replay(edits) {
                busy(true);
                const body = target(g);
                if (edits) body.edits = edits;
                const r = await operator("Replay", () => postJSON("/v1/dead-letters/replay", body));
                busy(false);
                if (r) {
                  const n = r.json && Array.isArray(r.json.replayed) ? r.json.replayed.length : null;
                  toast("Replayed " + (n === null ? "the group" : n + (n === 1 ? " job" : " jobs")) + (edits ? " with edits" : "") + ".", "ok");
                  form.hidden = true;
                  load();
                }
              }
              replayBtn.addEventListener("click", () => replay(null));
              editBtn.addEventListener("click", () => { form.hidden = !form.hidden; if (!form.hidden) bg.focus(); });
              cancelEdits.addEventListener("click", () => { form.hidden = true; });
              form.addEventListener("submit", (ev) => {
                ev.preventDefault();
                const edits = {};
                if (bg.value.trim()) edits.background = bg.value.trim();
                if (footage.value.trim()) edits.footage = footage.value.trim();
                if (style.value) edits.style = style.value;
                if (format.value) edits.format = format.value;
                if (!Object.keys(edits).length) { toast("Fill at least one edit, or use Replay group.", "error"); return; }
                replay(edits);
              });
              purgeBtn.addEventListener("click", async () => {
                const n = Number(g.count) || 0;
                if (!confirm("Purge " + n + " parked message" + (n === 1 ? "" : "s") + " (" + g.stage + ", " + g.kind + ")?\n\n" + g.cause + "\n\nThey cannot be replayed afterwards.")) return;
                busy(true);
                const r = await operator("Purge", () => postJSON("/v1/dead-letters/purge", target(g)));
                busy(false);
                if (r) {
                  const p = r.json && r.json.purged !== undefined ? r.json.purged : n;
                  toast("Purged " + p + " message" + (p === 1 ? "" : "s") + ".", "ok");
                  load();
                }
              });

              function update(next) {
                g = next;
                el.dataset.stage = g.stage || "";
                el.dataset.kind = g.kind || "";
                el.dataset.group = key;
                head.replaceChildren(stageBadge(g.stage), h("span", { class: "badge kind-" + cls(g.kind) }, g.kind || "—"),
                  h("span", { class: "dlq-count", title: "parked messages" }, "×" + fmtNum(g.count)));
                cause.textContent = g.cause || "(no cause recorded)";
                meta.replaceChildren(
                  h("span", null, "first ", timeEl(g.first_seen, true)),
                  h("span", null, "last ", timeEl(g.last_seen, true)));
                const ids = g.job_ids || [];
                const open = jobs.open;
                jobs.replaceChildren(h("summary", null, ids.length + (ids.length === 1 ? " job" : " jobs")),
                  h("ul", null, ids.map((id) => h("li", null, id))));
                jobs.open = open;
                jobs.hidden = !ids.length;
              }
              return { el: el, update: update };
            }

            const now = poll(v, 10000, load);
            const refreshBtn = h("button", { type: "button", class: "btn btn-small", title: "Refresh now" }, "↻");
            refreshBtn.addEventListener("click", now);
            return h("section", { class: "card", id: "dead-letters-card" },
              h("div", { class: "card-head" },
                compact ? h("h2", null, h("a", { href: "#/dead-letters" }, "Dead letters")) : h("h2", null, "Dead letters"),
                summary, refreshBtn),
              err, list);
          }

          // ---------------------------------------------------------------- one video
          function mountVideo(v, id) {
            let video = null;
            let streaming = false;
            let refetchTimer = null;
            let videoLoaded = false;
            let thumbLoaded = false;
            const objectUrls = [];
            const controller = new AbortController();
            v.cleanups.push(() => {
              controller.abort();
              clearTimeout(refetchTimer);
              for (const u of objectUrls) URL.revokeObjectURL(u);
            });

            const err = h("p", { class: "card-error", hidden: true });
            const live = h("span", { class: "live", title: "Server-Sent Events" }, h("span", { class: "dot" }), h("span", { class: "live-text" }, "connecting"));
            const setLive = (state, text) => { live.className = "live " + state; live.lastChild.textContent = text; };

            const titleBadge = h("span");
            const ideaEl = h("div", { class: "idea" });
            const retryFrom = h("select", { "aria-label": "Retry from stage", id: "retry-from" },
              h("option", { value: "" }, "from checkpoint"), STAGES.map((s) => h("option", { value: s }, "from " + s)));
            const cancelBtn = h("button", { type: "button", class: "btn btn-danger", id: "cancel-video" }, "Cancel");
            const retryBtn = h("button", { type: "button", class: "btn btn-primary", id: "retry-video" }, "Retry");
            const head = h("section", { class: "card video-head", id: "video", dataset: { id: id } },
              h("div", { class: "title" },
                h("div", { class: "small" }, h("a", { href: "#/videos" }, "← Videos")),
                h("h1", null, h("span", null, id), titleBadge, live),
                ideaEl),
              h("div", { class: "actions" }, cancelBtn, retryFrom, retryBtn));

            const details = h("dl", { class: "details" });
            const attempts = h("div");
            const timeline = h("div");
            const errors = h("div");
            const costs = h("div");
            const files = h("div");
            const playerBox = h("div", { class: "player-box" }, h("div", { class: "player-placeholder" }, "Loading…"));
            const errCount = h("span", { class: "muted small" });

            const page = h("div", { class: "stack" },
              head, err,
              h("div", { class: "video-grid" },
                h("div", { class: "stack" },
                  h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", null, "Status")), details),
                  h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", null, "Attempts per stage")), attempts)),
                h("div", { class: "stack" },
                  h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", null, "Video")), playerBox),
                  h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", null, "Files")), files))),
              h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", null, "Timeline")), timeline),
              h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", null, "Errors"), errCount), errors),
              h("section", { class: "card" }, h("div", { class: "card-head" }, h("h2", null, "Costs")), costs));

            function render() {
              if (!video) return;
              const x = video;
              head.dataset.status = x.status || "";
              head.dataset.stage = x.stage || "";
              titleBadge.replaceChildren(badge(x.status));
              ideaEl.textContent = x.idea || "";
              cancelBtn.disabled = FINAL.has(x.status);
              retryBtn.disabled = !FINAL.has(x.status);
              retryFrom.disabled = !FINAL.has(x.status);
              retryBtn.title = FINAL.has(x.status) ? "" : "Retry is for a video that has ended";

              const rows = [];
              const row = (k, val) => rows.push(h("dt", null, k), h("dd", null, val));
              row("status", badge(x.status));
              row("stage", stageBadge(x.stage));
              row("checkpoint", x.checkpoint ? stageBadge(x.checkpoint) : h("span", { class: "muted" }, "none yet"));
              row("progress", progressBar(x.progress, x.status, true));
              row("language", x.language || "—");
              row("duration", x.duration_seconds ? x.duration_seconds + " s" : "default");
              row("format", x.format || "default");
              row("style", x.style || "default");
              row("background", x.background ? [h("span", { class: "swatch", style: "background:" + (/^#[0-9a-fA-F]{3,8}$/.test(x.background) ? x.background : "transparent") }), " ", h("code", null, x.background)] : "default");
              row("footage", x.footage || "default");
              if (x.callback_url) row("callback", h("code", null, x.callback_url));
              row("job", x.job_id ? h("code", null, x.job_id) : "—");
              row("created", fmtTime(x.created_at));
              row("updated", [fmtTime(x.updated_at), " ", h("span", { class: "muted small" }, "(" + ago(x.updated_at) + ")")]);
              row("cost", fmtUsd(x.cost_usd));
              details.replaceChildren(...rows);

              const at = x.attempts || {};
              const aStages = STAGES.concat(Object.keys(at).filter((s) => !STAGES.includes(s)));
              attempts.replaceChildren(table(aStages, [h("tr", null, aStages.map((s) => h("td", { class: at[s] > 1 ? "warn" : "" }, fmtNum(at[s] || 0))))], { class: "attempts-table", id: "attempts" }));

              const tl = Array.isArray(x.timeline) ? x.timeline : [];
              timeline.replaceChildren(table(["Stage", "Attempt", "Outcome", "At", "Message"],
                tl.map((e) => h("tr", { dataset: { stage: e.stage || "", outcome: e.outcome || "" } },
                  h("td", null, stageBadge(e.stage)), h("td", { class: "num" }, fmtNum(e.attempt)), h("td", null, outcomeBadge(e.outcome)),
                  h("td", { class: "time-cell" }, timeEl(e.at)), h("td", { class: "message" }, e.message || ""))),
                { id: "timeline", empty: "No stage has run yet." }));

              const es = Array.isArray(x.errors) ? x.errors : [];
              errCount.textContent = es.length ? String(es.length) : "";
              errors.replaceChildren(table(["Stage", "Kind", "Attempt", "At", "Message"],
                es.map((e) => h("tr", null, h("td", null, stageBadge(e.stage)), h("td", null, h("span", { class: "badge kind-" + cls(e.kind) }, e.kind || "—")),
                  h("td", { class: "num" }, fmtNum(e.attempt)), h("td", { class: "time-cell" }, timeEl(e.at)), h("td", { class: "message" }, e.message || ""))),
                { id: "errors", empty: "No errors." }));

              const cs = Array.isArray(x.costs) ? x.costs : [];
              let sum = 0;
              for (const c of cs) sum += Number(c.usd) || 0;
              const total = x.cost_usd !== undefined && x.cost_usd !== null ? x.cost_usd : sum;
              costs.replaceChildren(table(["Stage", "Provider", ["Units", "num"], ["USD", "num"], ["Attempt", "num"], "At"],
                cs.map((c) => h("tr", null, h("td", null, stageBadge(c.stage)), h("td", null, c.provider || "—"),
                  h("td", { class: "num" }, fmtNum(c.units) + (c.unit ? " " + c.unit : "")), h("td", { class: "num" }, fmtUsd(c.usd)),
                  h("td", { class: "num" }, fmtNum(c.attempt)), h("td", { class: "time-cell" }, timeEl(c.at)))),
                { id: "costs", empty: "No costs recorded.",
                  foot: h("tfoot", null,
                    h("tr", null, h("td", { colspan: 3 }, "Total"), h("td", { class: "num", id: "cost-total" }, fmtUsd(total)), h("td", { colspan: 2 })),
                    h("tr", null, h("td", { colspan: 3 }, "Saved by resuming at the failed stage"),
                      h("td", { class: "num", id: "resume-saved" }, fmtUsd(x.resume_saved_usd || 0)), h("td", { colspan: 2 }))) }));

              renderFiles(x);
            }

            async function blobUrl(name) {
              const f = (video && video.files && video.files[name]) || null;
              const res = await apiFetch(fileUrl(id, name, f), { headers: { Accept: "*/*" }, signal: controller.signal });
              const blob = await res.blob();
              const u = URL.createObjectURL(blob);
              objectUrls.push(u);
              return u;
            }
            function renderFiles(x) {
              const fs = x.files || {};
              const names = Object.keys(fs);
              if (!names.length) {
                files.replaceChildren(h("p", { class: "muted" }, FINAL.has(x.status) ? "No files." : "Files appear as the stages finish."));
              } else {
                files.replaceChildren(h("ul", { class: "files", id: "files" }, names.map((name) => {
                  const link = h("a", { href: fileUrl(id, name, fs[name]), download: name, dataset: { file: name } }, name);
                  link.addEventListener("click", async (ev) => {
                    ev.preventDefault();
                    try {
                      const u = await blobUrl(name);
                      const a = h("a", { href: u, download: name });
                      document.body.append(a);
                      a.click();
                      a.remove();
                    } catch (e) {
                      if (e && e.name !== "AbortError" && e.status !== 401) toast("Download of " + name + " failed: " + errorText(e), "error");
                    }
                  });
                  return h("li", null, link, h("span", { class: "muted small" }, fmtBytes(fs[name] && fs[name].size)));
                })));
              }
              // player: the <video> element cannot send the Authorization header, so the file is fetched as a blob
              if (fs["video.mp4"] && !videoLoaded) {
                videoLoaded = true;
                const size = Number(fs["video.mp4"].size) || 0;
                const player = h("video", { class: "player", controls: true, preload: "metadata", playsinline: true, id: "player" });
                const note = h("div", { class: "muted small" }, "video.mp4 " + fmtBytes(size));
                const start = async () => {
                  playerBox.replaceChildren(h("div", { class: "player-placeholder" }, "Fetching video.mp4 (" + fmtBytes(size) + ")…"));
                  try {
                    player.src = await blobUrl("video.mp4");
                    playerBox.replaceChildren(player, note);
                    if (fs["thumbnail.png"] && !thumbLoaded) {
                      thumbLoaded = true;
                      blobUrl("thumbnail.png").then((u) => { player.poster = u; }).catch(() => {});
                    }
                  } catch (e) {
                    if (e && e.name === "AbortError") return;
                    videoLoaded = false;
                    playerBox.replaceChildren(h("div", { class: "player-placeholder" }, "Could not load the video: " + errorText(e)));
                  }
                };
                if (size > 200 * 1048576) {
                  const btn = h("button", { type: "button", class: "btn" }, "Load video (" + fmtBytes(size) + ")");
                  btn.addEventListener("click", start);
                  playerBox.replaceChildren(h("div", { class: "player-placeholder" }, btn));
                } else {
                  start();
                }
              } else if (!fs["video.mp4"] && !videoLoaded) {
                if (fs["thumbnail.png"] && !thumbLoaded) {
                  thumbLoaded = true;
                  blobUrl("thumbnail.png").then((u) => {
                    if (!videoLoaded) playerBox.replaceChildren(h("img", { src: u, alt: "thumbnail", class: "player" }), h("div", { class: "muted small" }, "thumbnail.png"));
                  }).catch(() => { thumbLoaded = false; });
                } else if (!thumbLoaded) {
                  playerBox.replaceChildren(h("div", { class: "player-placeholder" },
                    x.status === "completed" ? "No video file." : FINAL.has(x.status) ? "The video was not made (" + x.status + ")." : "The video appears here when the video stage is done."));
                }
              }
            }

            function apply(data, full) {
              if (!data || typeof data !== "object") return;
              video = Object.assign({}, video || {}, data);
              render();
              // an SSE payload without timeline/errors/costs (list shape): fetch the full video, at most once a second
              if (!full && !("timeline" in data) && refetchTimer === null) {
                refetchTimer = setTimeout(async () => {
                  refetchTimer = null;
                  try { const full2 = await api("/v1/videos/" + enc(id), { signal: controller.signal }); if (v.alive) apply(full2, true); } catch (e) { /* next event */ }
                }, 1000);
              }
            }

            async function load() {
              try {
                const data = await api("/v1/videos/" + enc(id), { signal: controller.signal });
                if (!v.alive) return false;
                setError(err, null);
                apply(data, true);
                return true;
              } catch (e) {
                if (!v.alive || (e && e.name === "AbortError")) return false;
                if (e && e.status === 404) {
                  page.replaceChildren(h("section", { class: "card" }, h("h1", null, "No such video"),
                    h("p", null, "The API has no video ", h("code", null, id), "."), h("p", null, h("a", { href: "#/videos" }, "← Videos"))));
                  return false;
                }
                setError(err, e);
                return true;
              }
            }

            // Server-Sent Events over fetch (EventSource cannot send the Authorization header).
            async function stream() {
              if (streaming) return;
              streaming = true;
              let backoff = 1000;
              try {
                while (v.alive) {
                  setLive("retrying", "connecting");
                  let gotEvent = false;
                  try {
                    const res = await apiFetch("/v1/videos/" + enc(id) + "/events", { headers: { Accept: "text/event-stream" }, signal: controller.signal });
                    if (!res.body) throw new ApiError(0, "stream", "no response body");
                    setLive("on", "live");
                    const reader = res.body.getReader();
                    const decoder = new TextDecoder();
                    let buf = "";
                    let evName = "";
                    let dataLines = [];
                    const dispatch = () => {
                      if (dataLines.length) {
                        const name = evName || "message";
                        const payload = dataLines.join("\n");
                        if (name === "video" || name === "message") {
                          try { apply(JSON.parse(payload), false); gotEvent = true; } catch (e) { /* not JSON */ }
                        } else if (name === "error") {
                          try { const j = JSON.parse(payload); toast("Stream: " + ((j.error && j.error.message) || payload), "error"); } catch (e) { /* ignore */ }
                        }
                      }
                      evName = "";
                      dataLines = [];
                    };
                    for (;;) {
                      const chunk = await reader.read();
                      if (chunk.done) break;
                      buf += decoder.decode(chunk.value, { stream: true });
                      let nl;
                      while ((nl = buf.indexOf("\n")) >= 0) {
                        let line = buf.slice(0, nl);
                        buf = buf.slice(nl + 1);
                        if (line.endsWith("\r")) line = line.slice(0, -1);
                        if (line === "") { dispatch(); continue; }
                        if (line.startsWith(":")) continue;
                        const c = line.indexOf(":");
                        const field = c >= 0 ? line.slice(0, c) : line;
                        let value = c >= 0 ? line.slice(c + 1) : "";
                        if (value.startsWith(" ")) value = value.slice(1);
                        if (field === "event") evName = value;
                        else if (field === "data") dataLines.push(value);
                      }
                    }
                    buf += decoder.decode();
                    if (buf) { /* an unterminated last line is dropped, as EventSource does */ }
                    dispatch();
                  } catch (e) {
                    if (!v.alive || (e && e.name === "AbortError")) return;
                    if (e && (e.status === 401)) return;
                    if (e && e.status === 404) { await load(); return; }
                  }
                  if (!v.alive) return;
                  if (video && FINAL.has(video.status)) { setLive("", "ended (" + video.status + ")"); return; }
                  if (gotEvent) backoff = 1000;
                  setLive("retrying", "reconnecting in " + Math.round(backoff / 1000) + " s");
                  await new Promise((resolve) => { const t = setTimeout(resolve, backoff); v.cleanups.push(() => { clearTimeout(t); resolve(); }); });
                  backoff = Math.min(backoff * 2, 30000);
                }
              } finally {
                streaming = false;
              }
            }

            cancelBtn.addEventListener("click", async () => {
              if (!confirm("Cancel video " + id + "? No new stage starts and a running stage stops at its next safe point.")) return;
              cancelBtn.disabled = true;
              const r = await operator("Cancel", () => postJSON("/v1/videos/" + enc(id) + "/cancel", {}));
              if (r) { toast("Cancel requested for " + id + ".", "ok"); load(); } else if (video) cancelBtn.disabled = FINAL.has(video.status);
            });
            retryBtn.addEventListener("click", async () => {
              const from = retryFrom.value;
              retryBtn.disabled = true;
              const r = await operator("Retry", () => postJSON("/v1/videos/" + enc(id) + "/retry", from ? { from: from } : {}));
              if (r) {
                toast("Retry " + (from ? "from " + from : "from the checkpoint") + " queued for " + id + ".", "ok");
                await load();
                stream();
              } else if (video) retryBtn.disabled = !FINAL.has(video.status);
            });

            load().then((ok) => { if (ok && v.alive) stream(); });
            return page;
          }

          // ---------------------------------------------------------------- new video
          function mountNewVideo(v) {
            let lastKey = null;
            let lastBody = null;
            const idea = h("textarea", { id: "new-idea", name: "idea", required: true, rows: 3, placeholder: "why octopuses have three hearts" });
            const language = h("select", { id: "new-language", name: "language" }, h("option", { value: "en" }, "en — English"), h("option", { value: "fr" }, "fr — French"));
            const duration = h("input", { id: "new-duration", name: "duration_seconds", type: "number", min: 1, step: 1, placeholder: "30" });
            const background = h("input", { id: "new-background", name: "background", type: "text", placeholder: "#102040", spellcheck: "false" });
            const swatch = h("span", { class: "swatch" });
            const footage = h("input", { id: "new-footage", name: "footage", type: "text", placeholder: "pexels,generated", spellcheck: "false" });
            const format = h("select", { id: "new-format", name: "format" }, h("option", { value: "" }, "default"), ["9:16", "1:1", "16:9"].map((s) => h("option", { value: s }, s)));
            const style = h("select", { id: "new-style", name: "style" }, h("option", { value: "" }, "default"), ["classic", "shorts"].map((s) => h("option", { value: s }, s)));
            const callback = h("input", { id: "new-callback", name: "callback_url", type: "url", placeholder: "https://example.com/hook (optional)" });
            const submit = h("button", { type: "submit", class: "btn btn-primary" }, "Create video");
            const result = h("div", { id: "new-result", hidden: true });
            background.addEventListener("input", () => {
              swatch.style.background = /^#[0-9a-fA-F]{3,8}$/.test(background.value.trim()) ? background.value.trim() : "transparent";
            });

            const form = h("form", { class: "form-grid", id: "new-video-form", autocomplete: "off" },
              h("label", { for: "new-idea" }, "Idea"), idea,
              h("label", { for: "new-language" }, "Language"), language,
              h("label", { for: "new-duration" }, "Duration (s)"), duration,
              h("label", { for: "new-background" }, "Background"), h("div", { class: "field-row" }, background, swatch),
              h("div", { class: "hint" }, "A colour like #102040; empty for the default."),
              h("label", { for: "new-footage" }, "Footage"), footage,
              h("div", { class: "hint" }, "Comma-separated sources, e.g. pexels,generated; empty for the default."),
              h("label", { for: "new-format" }, "Format"), format,
              h("label", { for: "new-style" }, "Style"), style,
              h("label", { for: "new-callback" }, "Callback URL"), callback,
              h("div", { class: "form-actions" }, submit, h("span", { class: "muted small" }, "Each submission carries an Idempotency-Key: resubmitting the same form returns the same video.")));

            form.addEventListener("submit", async (ev) => {
              ev.preventDefault();
              const body = { idea: idea.value.trim(), language: language.value };
              if (!body.idea) { idea.focus(); return; }
              if (duration.value.trim()) body.duration_seconds = Number(duration.value);
              if (background.value.trim()) body.background = background.value.trim();
              if (footage.value.trim()) body.footage = footage.value.trim();
              if (format.value) body.format = format.value;
              if (style.value) body.style = style.value;
              if (callback.value.trim()) body.callback_url = callback.value.trim();
              const json = JSON.stringify(body);
              // one key per submission; an unchanged resubmission (say after a network error) reuses it so it cannot create twice
              const key = json === lastBody && lastKey ? lastKey : uuid();
              lastKey = key;
              lastBody = json;
              submit.disabled = true;
              result.hidden = true;
              try {
                const r = await postJSON("/v1/videos", body, { "Idempotency-Key": key });
                const vid = r.json && r.json.id;
                result.className = "result";
                result.replaceChildren(
                  r.status === 201 ? "Created " : "Already created with this Idempotency-Key: ",
                  vid ? h("a", { href: "#/videos/" + enc(vid), id: "new-video-link" }, vid) : "(no id in the answer)",
                  r.json && r.json.status ? h("span", null, " ", badge(r.json.status)) : null);
                result.hidden = false;
                idea.value = "";
                lastBody = null;
                lastKey = null;
              } catch (e) {
                if (e && e.status === 401) return;
                result.className = "result error";
                result.textContent = e && e.status === 409
                  ? "Conflict (409): this Idempotency-Key was used with another body. " + (e.message || "")
                  : errorText(e);
                result.hidden = false;
                if (e && e.status !== 0) { lastBody = null; lastKey = null; }
              } finally {
                submit.disabled = false;
              }
            });
            setTimeout(() => { if (v.alive) idea.focus(); }, 0);
            return h("section", { class: "card", id: "new-video" },
              h("div", { class: "card-head" }, h("h2", null, "New video")), form, result);
          }

          // ---------------------------------------------------------------- start
          function init() {
            const hash = location.hash || "";
            if (hash.startsWith("#token=")) {
              let t = hash.slice("#token=".length).split("&")[0];
              try { t = decodeURIComponent(t); } catch (e) { /* keep raw */ }
              if (t) setToken(t);
              history.replaceState(null, "", location.pathname + location.search);
            }
            $("signin-form").addEventListener("submit", (ev) => {
              ev.preventDefault();
              const t = $("token-input").value.trim();
              if (!t) return;
              setToken(t);
              $("token-input").value = "";
              route();
            });
            $("signout").addEventListener("click", () => signOut("Signed out."));
            window.addEventListener("hashchange", route);
            route();
          }
          if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
          else init();
        })();
        """#
}
