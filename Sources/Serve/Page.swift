/// The explorer's one page: HTML, style and script inline (no CDN, works offline). Two tabs:
/// *Explore* — pick a sample or upload a PNG, see its reconstruction, move one slider per active
/// latent (labelled with the probe's name and range; the server decodes each move), and, when the
/// run has classifiers, the decisions, the tree's rule path in factor names, the counterfactual
/// strips and every saliency method as an overlay (signed or absolute, one colour scale) beside
/// the ground-truth mask; *Curves & metrics* — the run's figures and metrics files.
///
/// Element ids the browser test drives: `#samples img`, `#upload`, `#message`, `#decoded`
/// (its `src` is `/api/decode?z=…`), `.slider` (one `input[type=range]` per active latent,
/// `data-latent` = its index), `#explanation`, `#tab-curves`.
public enum ExplorerPage {
    public static let html = #"""
    <!doctype html>
    <html lang="en"><head><meta charset="utf-8"><title>Untangle explorer</title>
    <style>
    body { font-family: sans-serif; margin: 1.5em; color: #222; }
    nav button { font-size: 1em; padding: 0.3em 1em; margin-right: 0.3em; border: 1px solid #999; background: #eee; cursor: pointer; }
    nav button.on { background: #fff; border-bottom-color: #fff; font-weight: bold; }
    section { border-top: 1px solid #999; padding-top: 1em; }
    #samples img { width: 48px; height: 48px; image-rendering: pixelated; margin: 2px; border: 2px solid transparent; cursor: pointer; }
    #samples img.on { border-color: #c00; }
    .pair img, #explanation img { image-rendering: pixelated; }
    .pair img { width: 192px; height: 192px; margin-right: 1em; border: 1px solid #ccc; }
    .row { display: flex; gap: 2em; flex-wrap: wrap; }
    .sliders label { display: block; margin: 0.4em 0; font-size: 0.9em; }
    .sliders input { width: 280px; vertical-align: middle; }
    #message { color: #b00; font-weight: bold; min-height: 1.2em; }
    table { border-collapse: collapse; } td, th { padding: 0.2em 0.5em; border-bottom: 1px solid #ddd; }
    td img { width: 112px; } img.strip { width: 640px; }
    .figures img { max-width: 480px; margin: 0.5em; border: 1px solid #ddd; }
    pre { background: #f6f6f6; padding: 0.5em; max-height: 16em; overflow: auto; font-size: 0.8em; }
    </style></head><body>
    <h1>Untangle explorer</h1>
    <p id="runpath"></p>
    <nav><button id="tab-explore" class="on">Explore</button><button id="tab-curves">Curves &amp; metrics</button></nav>
    <section id="explore">
      <p>Pick an image, or upload a PNG of the run's size: <input type="file" id="upload" accept="image/png"></p>
      <div id="message"></div>
      <div id="samples"></div>
      <div class="row">
        <div class="pair"><div><img id="input" alt="input"><img id="decoded" alt="decoded"></div>
          <small>left: the image · right: decoded from the code the sliders set</small></div>
        <div class="sliders" id="sliders"></div>
      </div>
      <div id="explanation"></div>
    </section>
    <section id="curves" hidden><div class="figures" id="figures"></div><div id="metrics"></div></section>
    <script>
    "use strict";
    const state = { run: null, code: [], index: null, busy: false, dirty: false };
    const $ = (id) => document.getElementById(id);
    function escapeHTML(s) { return String(s).replace(/[&<>"]/g, c => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c])); }
    function say(text) { $("message").textContent = text || ""; }
    async function json(url, options) {
      const r = await fetch(url, options);
      const body = await r.json();
      if (!r.ok) throw new Error(body.error || r.statusText);
      return body;
    }
    function decode() {
      if (state.busy) { state.dirty = true; return; }
      state.busy = true; state.dirty = false;
      $("decoded").src = "/api/decode?z=" + state.code.map(v => v.toFixed(5)).join(",");
    }
    $("decoded").addEventListener("load", () => { state.busy = false; if (state.dirty) decode(); });
    $("decoded").addEventListener("error", () => { state.busy = false; say("the server could not decode this code"); });
    function sliders() {
      const box = $("sliders");
      box.innerHTML = "<strong>latents</strong> (probe name, held-out range)";
      for (const l of state.run.latents) {
        if (!l.active) continue;
        const label = document.createElement("label");
        const input = document.createElement("input");
        Object.assign(input, { type: "range", min: l.low, max: l.high, step: (l.high - l.low) / 200, value: state.code[l.index] });
        input.className = "slider"; input.dataset.latent = l.index;
        const value = document.createElement("span");
        value.textContent = " " + state.code[l.index].toFixed(2);
        input.addEventListener("input", () => {
          state.code[l.index] = parseFloat(input.value);
          value.textContent = " " + state.code[l.index].toFixed(2);
          decode();
        });
        label.append("z" + l.index + " · " + l.name + " [" + l.low.toFixed(1) + ", " + l.high.toFixed(1) + "] ", input, value);
        box.append(label);
      }
      const off = state.run.latents.filter(l => !l.active).map(l => "z" + l.index);
      if (off.length) box.append(Object.assign(document.createElement("p"), { textContent: "inactive (held at the image's value): " + off.join(", ") }));
    }
    function showExplanation(e) {
      let h = "<h2>Decisions</h2><ul>" + e.decisions.map(d => "<li>" + escapeHTML(d.model) + ": <strong>" + escapeHTML(d.decision) +
        "</strong> (P = " + d.probability.toFixed(2) + ")</li>").join("") + "</ul>";
      if (e.trueLabel) h += "<p>true label: <em>" + escapeHTML(e.trueLabel) + "</em>" + (e.rule ? " · rule: " + escapeHTML(e.rule) : "") + "</p>";
      h += "<h2>Why, in factors: the tree's rule path</h2><ol>" + e.ruleSteps.map(s => "<li>" + escapeHTML(s) + "</li>").join("") + "</ol>";
      h += "<h2>Counterfactuals</h2>" + (e.strips.length ? e.strips.map(s => "<figure><img class='strip' src='" + s.image + "' alt='counterfactual " +
        escapeHTML(s.model) + "'><figcaption>" + escapeHTML(s.model) + ": " + escapeHTML(s.caption) + "</figcaption></figure>").join("") : "<p>no single factor flips the decision</p>");
      h += "<h2>Where, in pixels: every saliency method</h2><p><label><input type='checkbox' id='absolute'> absolute |a| (else signed: red raises the score, blue lowers it; each map ÷ its 98th percentile)</label></p>";
      h += "<div class='row'><figure><img src='" + e.input + "' width='112'><figcaption>input</figcaption></figure>" +
        (e.mask ? "<figure><img src='" + e.mask + "' width='112'><figcaption>ground-truth mask</figcaption></figure>" : "") + "</div>";
      h += "<table><tr><th>model</th><th>method</th><th>map</th><th>relevance mass</th></tr>" + e.maps.map(m => "<tr><td>" + escapeHTML(m.model) +
        "</td><td>" + escapeHTML(m.method) + "</td><td><img class='map' data-signed='" + m.signed + "' data-absolute='" + m.absolute + "' src='" +
        m.signed + "'></td><td>" + (m.mass == null ? "" : m.mass.toFixed(3)) + "</td></tr>").join("") + "</table>";
      $("explanation").innerHTML = h;
      $("absolute").addEventListener("change", (ev) => {
        for (const img of document.querySelectorAll("img.map")) img.src = ev.target.checked ? img.dataset.absolute : img.dataset.signed;
      });
    }
    async function pick(index) {
      say("");
      state.index = index;
      for (const img of $("samples").children) img.classList.toggle("on", img.dataset.index == index);
      $("input").src = "/api/image/" + index + ".png";
      state.code = await json("/api/code/" + index);
      sliders(); decode();
      $("explanation").innerHTML = "";
      if (state.run.hasClassifiers) {
        $("explanation").textContent = "explaining…";
        try { showExplanation(await json("/api/explain/" + index)); } catch (err) { $("explanation").textContent = err.message; }
      }
    }
    $("upload").addEventListener("change", async (ev) => {
      const file = ev.target.files[0];
      if (!file) return;
      say("");
      try {
        const bytes = await file.arrayBuffer();
        const up = await json("/api/upload", { method: "POST", body: bytes });
        state.index = null; state.code = up.code;
        $("input").src = up.image;
        sliders(); decode();
        if (state.run.hasClassifiers) showExplanation(await json("/api/explain-upload", { method: "POST", body: bytes }));
      } catch (err) { say(err.message); }
      ev.target.value = "";
    });
    function tab(name) {
      $("explore").hidden = name != "explore"; $("curves").hidden = name != "curves";
      $("tab-explore").classList.toggle("on", name == "explore"); $("tab-curves").classList.toggle("on", name == "curves");
    }
    $("tab-explore").addEventListener("click", () => tab("explore"));
    $("tab-curves").addEventListener("click", () => tab("curves"));
    (async () => {
      try {
        state.run = await json("/api/run");
        $("runpath").textContent = "run " + state.run.run + " · images " + state.run.imageShape.join("×");
        for (const i of state.run.samples) {
          const img = Object.assign(document.createElement("img"), { src: "/api/image/" + i + ".png", alt: "sample " + i, title: "image " + i });
          img.dataset.index = i; img.addEventListener("click", () => pick(i));
          $("samples").append(img);
        }
        $("figures").innerHTML = state.run.figures.map(f => "<figure><img src='/run/" + encodeURI(f) + "' alt='" + escapeHTML(f) +
          "'><figcaption>" + escapeHTML(f) + "</figcaption></figure>").join("") || "<p>no figures yet (run <code>untangle report</code>)</p>";
        $("metrics").innerHTML = Object.entries(state.run.metrics).map(([k, v]) => "<h3>" + escapeHTML(k) + "</h3><pre>" + escapeHTML(v) + "</pre>").join("");
        if (state.run.samples.length) await pick(state.run.samples[0]);
        document.body.dataset.ready = "yes";
      } catch (err) { say(err.message); }
    })();
    </script>
    </body></html>
    """#
}
