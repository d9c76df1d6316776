"""The report's stylesheet, inlined in the file: screen, dark mode, phone widths and print."""

CSS = """
:root{color-scheme:light dark;--fg:#1d2330;--bg:#fff;--muted:#5b6475;--line:#d9dee7;--bar:#3b6fd8}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ef;--bg:#14171d;--muted:#9aa3b2;--line:#2c323c;--bar:#6d9cf5}}
*{box-sizing:border-box}body{margin:0 auto;max-width:72rem;padding:1rem;font:15px/1.45 system-ui,sans-serif;
color:var(--fg);background:var(--bg)}h1{font-size:1.4rem;overflow-wrap:anywhere}h2{border-bottom:1px solid var(--line);
padding-bottom:.2rem}h3{font-size:1rem;overflow-wrap:anywhere}.meta,footer{color:var(--muted)}nav a{margin-right:.8rem}
table{border-collapse:collapse;margin:.4rem 0}th,td{padding:.2rem .5rem;text-align:left;vertical-align:top;
border-bottom:1px solid var(--line);overflow-wrap:anywhere}table.kv th{font-weight:500;color:var(--muted)}
.scroll{overflow-x:auto;max-width:100%}.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(20rem,1fr));gap:1rem}
.column{border:1px solid var(--line);border-radius:6px;padding:.6rem;min-width:0}.badge{font-size:.75rem;font-weight:500;
border:1px solid var(--line);border-radius:4px;padding:0 .3rem;margin-left:.3rem}svg{width:100%;height:auto;max-width:26rem}
svg rect,svg circle{fill:var(--bar)}svg.scatter circle{fill-opacity:.55}figure{margin:0}
figcaption{color:var(--muted);font-size:.85rem}svg.matrix{max-width:46rem}svg.matrix rect.gap{fill:var(--bg)}svg text{font-size:10px;fill:var(--muted)}.masked{font-family:monospace}
details.alerts{margin:.3rem 0}details.critical summary{color:#c62828}details.warning summary{color:#b26a00}
summary{cursor:pointer;font-weight:600}
@media (max-width:480px){body{padding:.5rem}.cards{grid-template-columns:1fr}}
@media print{nav{display:none}body{max-width:none;color:#000;background:#fff}.column{break-inside:avoid}
.scroll{overflow:visible}svg rect{fill:#555}svg.matrix rect.gap{fill:#fff}figure,tr{break-inside:avoid}}
"""
