// The page: draw or upload → POST /api/predict → show the digit the model saw, each served model's answer,
// and the same digit run in this browser by onnxruntime-web. <body data-state> is "idle" once the newest
// input has every answer, so scripts (and the tests) know when to read #prediction and #browser-prediction.
// On a server that collects (`serve --collect DIR`), "wrong? it was a …" sends that input back with its label.

const $ = (id) => document.getElementById(id);
const canvas = $("canvas"), pen = canvas.getContext("2d");
const DEBOUNCE_MS = 150;
const TOP = 3;
let catalogue = null, latest = 0, timer = null, drawing = false, showsPhoto = false;
let browserReady = null; // a promise of {run(digit) → {label, ms}} or null when unavailable
let answered = null; // {blob, name}: the upload behind the answer on show, which a correction sends back

// -- drawing ----------------------------------------------------------------------------------------------
function clearCanvas() {
  pen.fillStyle = "#fff";
  pen.fillRect(0, 0, canvas.width, canvas.height);
  showsPhoto = false;
}

function point(event) {
  const box = canvas.getBoundingClientRect();
  return [(event.clientX - box.left) * canvas.width / box.width, (event.clientY - box.top) * canvas.height / box.height];
}

canvas.addEventListener("pointerdown", (event) => {
  if (showsPhoto) clearCanvas();
  drawing = true;
  canvas.setPointerCapture(event.pointerId);
  const [x, y] = point(event);
  pen.lineWidth = canvas.width / 14; pen.lineCap = pen.lineJoin = "round"; pen.strokeStyle = "#000";
  pen.beginPath(); pen.moveTo(x, y); pen.lineTo(x, y); pen.stroke();
});
canvas.addEventListener("pointermove", (event) => {
  if (!drawing) return;
  const [x, y] = point(event);
  pen.lineTo(x, y); pen.stroke();
  clearTimeout(timer);
  timer = setTimeout(predictCanvas, DEBOUNCE_MS); // live while drawing, at most every DEBOUNCE_MS of stillness
});
for (const type of ["pointerup", "pointercancel"]) {
  canvas.addEventListener(type, () => {
    if (!drawing) return;
    drawing = false;
    clearTimeout(timer);
    predictCanvas();
  });
}

$("clear").addEventListener("click", () => { clearCanvas(); predictCanvas(); });

$("upload").addEventListener("change", async () => {
  const file = $("upload").files[0];
  if (!file) return;
  showPhoto(file);
  await predict(file, file.name);
  $("upload").value = "";
});

function showPhoto(file) {
  const image = new Image();
  image.onload = () => {
    clearCanvas();
    const scale = Math.min(canvas.width / image.width, canvas.height / image.height);
    const w = image.width * scale, h = image.height * scale;
    pen.drawImage(image, (canvas.width - w) / 2, (canvas.height - h) / 2, w, h);
    showsPhoto = true;
    URL.revokeObjectURL(image.src);
  };
  image.src = URL.createObjectURL(file);
}

function predictCanvas() {
  if (!catalogue) return; // still starting
  document.body.dataset.state = "busy"; // now, not when the PNG is ready: scripts wait for "idle"
  canvas.toBlob((blob) => predict(blob, "canvas.png"), "image/png");
}

// -- asking the server --------------------------------------------------------------------------------------
async function post(model, body) {
  const started = performance.now();
  const answer = await answerOf(await fetch(`/api/predict?model=${encodeURIComponent(model)}`, { method: "POST", ...body }));
  answer.roundTripMs = performance.now() - started;
  return answer;
}

async function answerOf(response) {
  // Our errors are JSON; a server past its connection cap answers 503 in plain text.
  const text = await response.text();
  let answer;
  try { answer = JSON.parse(text); } catch { answer = { error: `HTTP ${response.status} ${text.slice(0, 80)}` }; }
  if (!response.ok) throw new Error(answer.error || `HTTP ${response.status}`);
  return answer;
}

async function predict(blob, name) {
  if (!catalogue) return; // still starting
  const mine = ++latest;
  document.body.dataset.state = "busy";
  const form = new FormData();
  form.append("image", blob, name);
  try {
    const first = await post(catalogue.default, { body: form });
    if (mine !== latest) return; // a newer stroke is already on its way
    if (first.blank) return showBlank();
    offerCorrection({ blob, name });
    $("prediction").textContent = first.label;
    $("message").textContent = "";
    drawPreview(first.digit);
    showModel(first);
    const json = { headers: { "Content-Type": "application/json" }, body: JSON.stringify({ digit: first.digit }) };
    const others = catalogue.models.slice(1).map((model) => post(model.name, json).then((answer) => {
      if (mine === latest) showModel(answer);
    }));
    const inBrowser = runInBrowser(first.digit, first, mine);
    await Promise.allSettled([...others, inBrowser]);
  } catch (error) {
    if (mine === latest) { $("prediction").textContent = ""; $("message").textContent = `error: ${error.message}`; }
  } finally {
    if (mine === latest) document.body.dataset.state = "idle";
  }
}

function showBlank() {
  offerCorrection(null);
  $("prediction").textContent = "";
  $("browser-prediction").textContent = "";
  $("agreement").textContent = "";
  $("message").textContent = "nothing drawn";
  drawPreview(null);
  for (const card of $("models").children) card.querySelector(".result").replaceChildren();
}

// -- "wrong? it was a …" -------------------------------------------------------------------------------------
function offerCorrection(upload) {
  answered = upload;
  $("correct").hidden = !(catalogue.collect && upload);
  $("collected").textContent = "";
}

async function saveCorrection(label) {
  if (!answered) return;
  document.body.dataset.state = "busy";
  const form = new FormData();
  form.append("image", answered.blob, answered.name);
  form.append("label", label);
  try {
    await answerOf(await fetch("/api/collect", { method: "POST", body: form }));
    $("collected").textContent = `saved as a ${label}: thank you`;
  } catch (error) {
    $("collected").textContent = `not saved: ${error.message}`;
  } finally {
    document.body.dataset.state = "idle";
  }
}

for (const button of $("correct").querySelectorAll("button")) {
  button.addEventListener("click", () => saveCorrection(button.dataset.label));
}

// -- showing answers ----------------------------------------------------------------------------------------
function drawPreview(digit) {
  const preview = $("preview").getContext("2d"), image = preview.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const value = digit ? digit[Math.floor(i / 28)][i % 28] : 0;
    image.data.set([value, value, value, 255], i * 4);
  }
  preview.putImageData(image, 0, 0);
}

function bars(pairs) {
  return pairs.map(([label, p]) => `<div class="bar"><span>${label}</span><span class="track">` +
    `<span class="fill" style="display:block;width:${(100 * p).toFixed(1)}%"></span></span><span>${(100 * p).toFixed(1)}%</span></div>`).join("");
}

function showModel(answer) {
  const card = document.querySelector(`[data-model="${CSS.escape(answer.model)}"] .result`);
  card.innerHTML = `<div class="label">${answer.label}</div>` + bars(answer.top.map((t) => [t.label, t.probability])) +
    `<div class="timing">inference ${answer.inference_us.toFixed(0)} µs · in server ${(answer.server_us / 1000).toFixed(2)} ms` +
    ` · round trip ${answer.roundTripMs.toFixed(1)} ms</div>`;
}

function modelCards() {
  $("models").innerHTML = catalogue.models.map((model) =>
    `<div class="card" data-model="${model.name}"><h3>${model.name}</h3>` +
    `<div class="meta">${model.backend} ${model.runtime_version} · ${model.quantization}</div>` +
    `<div class="result"></div></div>`).join("");
}

// -- the same ONNX model in this browser ---------------------------------------------------------------------
async function openBrowserModel(info) {
  const ort = await import(info.module);
  ort.env.wasm.wasmPaths = { wasm: info.wasm }; // this server's own copy, no CDN; the loader is in the bundle
  ort.env.wasm.numThreads = 1; // no cross-origin isolation, so no shared-memory threads; one is plenty here
  const session = await ort.InferenceSession.create(info.url, { executionProviders: ["wasm"] });
  const contract = { ...tensorFields(session), ...info.contract };
  const feed = (digit) => ({ [session.inputNames[0]]: new ort.Tensor(contract.dtype, encode(digit, contract), shapeOf(contract.layout)) });
  const run = async (digit) => {
    const started = performance.now();
    const outputs = await session.run(feed(digit));
    const ms = performance.now() - started;
    const probabilities = decode(Array.from(outputs[session.outputNames[0]].data), contract);
    const best = probabilities.indexOf(Math.max(...probabilities));
    return { label: contract.labels[best], probability: probabilities[best], probabilities, ms };
  };
  await run(Array.from({ length: 28 }, () => new Array(28).fill(0))); // warm-up: the first run allocates
  return { run, runtime: info.runtime, model: info.model };
}

function tensorFields(session) {
  // Used only when the server could not read the ONNX tensors itself (no onnxruntime there).
  const meta = session.inputMetadata && session.inputMetadata[0];
  if (!meta || !meta.shape) return {};
  const dims = meta.shape.slice(1).join("x");
  const layout = { "28x28x1": "NHWC", "1x28x28": "NCHW", "28x28": "NHW", "784": "flat" }[dims];
  return { layout, dtype: meta.type, input_scale: 1, mean: 0, std: 1, output: "probabilities", output_dtype: "float32",
           labels: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] };
}

function shapeOf(layout) {
  return { NHWC: [1, 28, 28, 1], NCHW: [1, 1, 28, 28], NHW: [1, 28, 28], flat: [1, 784] }[layout];
}

function encode(digit, c) {
  // The input contract of edgemnist/contract.py: pixel / 255 × input_scale, normalized, maybe quantized.
  const Type = { float32: Float32Array, int8: Int8Array, uint8: Uint8Array }[c.dtype];
  const values = new Type(784), integer = c.dtype !== "float32";
  const [low, high] = c.dtype === "int8" ? [-128, 127] : [0, 255];
  for (let i = 0; i < 784; i++) {
    const x = (digit[Math.floor(i / 28)][i % 28] / 255 * c.input_scale - c.mean) / c.std;
    values[i] = integer ? Math.min(high, Math.max(low, Math.round(x / c.quant_scale) + c.quant_zero_point)) : x;
  }
  return values; // one channel: NHWC, NCHW, NHW and flat share this row-major order
}

function decode(raw, c) {
  let values = c.output_dtype === "float32" ? raw : raw.map((q) => (q - c.output_quant_zero_point) * c.output_quant_scale);
  if (c.output === "logits") {
    const top = Math.max(...values), exp = values.map((v) => Math.exp(v - top)), sum = exp.reduce((a, b) => a + b, 0);
    values = exp.map((e) => e / sum);
  }
  return values;
}

async function runInBrowser(digit, server, mine) {
  const box = $("browser");
  if (!browserReady) return;
  const model = await browserReady;
  if (!model) return;
  const result = await model.run(digit);
  if (mine !== latest) return;
  $("browser-prediction").textContent = result.label;
  const agrees = result.label === server.label;
  $("agreement").className = "note " + (agrees ? "agree" : "disagree");
  $("agreement").textContent = agrees ? `browser and server agree (${server.model})` : `browser and server differ (${server.model} says ${server.label})`;
  const ranked = result.probabilities.map((p, i) => [String(i), p]).sort((a, b) => b[1] - a[1]).slice(0, TOP);
  box.querySelector(".result").innerHTML = `<div class="label">${result.label}</div>` + bars(ranked) +
    `<div class="timing">in-browser inference ${result.ms.toFixed(2)} ms</div>`;
}

// -- start --------------------------------------------------------------------------------------------------
async function start() {
  clearCanvas();
  drawPreview(null);
  catalogue = await (await fetch("/api/models")).json();
  modelCards();
  const info = catalogue.browser, box = $("browser");
  box.innerHTML = `<h3>In your browser: ${info.model || "—"}</h3><div class="meta"></div><div class="result"></div>`;
  if (info.available) {
    box.querySelector(".meta").textContent = `${info.runtime}, WebAssembly, 1 thread` + (info.same_file_as_server ? "" : " · the ONNX export of the same model");
    browserReady = openBrowserModel(info).catch((error) => {
      box.querySelector(".meta").textContent = `could not start: ${error.message}`;
      return null;
    });
    window.edgemnistBrowserModel = browserReady; // for scripts: (await it).run(digit28x28) → {label, ms, …}
    await browserReady;
  } else {
    box.querySelector(".meta").textContent = `not available: ${info.reason}`;
  }
  document.body.dataset.state = "idle";
}

start().catch((error) => { $("message").textContent = `error: ${error.message}`; });
