// The answer form, progressively enhanced. One module so the first view needs
// only three requests (page, CSS, this). Without JavaScript every control still
// works: the 0–10 line is a number field, choices are radio buttons.

// ---- The 0–10 line: tap or drag anywhere, no preset mark, 0.1 steps, keyboard operable.
class LineScale {
  constructor(root) {
    this.root = root;
    this.input = root.querySelector("input[type=number]");
    this.min = Number(root.dataset.min);
    this.max = Number(root.dataset.max);
    this.step = Number(root.dataset.step);
    this.fieldset = root.closest("fieldset");
    this.skip = this.fieldset.querySelector(".skip input");
    this.build();
    if (this.input.value !== "") this.set(Number(this.input.value), false);
  }

  build() {
    const legend = this.fieldset.querySelector("legend");
    this.track = document.createElement("div");
    this.track.className = "track";
    this.track.tabIndex = 0;
    this.track.setAttribute("role", "slider");
    this.track.setAttribute("aria-labelledby", legend.id);
    this.track.setAttribute("aria-valuemin", this.min);
    this.track.setAttribute("aria-valuemax", this.max);
    this.track.setAttribute("aria-valuetext", this.root.dataset.unmarked);
    this.mark = document.createElement("div");
    this.mark.className = "mark";
    this.track.append(this.mark);
    this.output = document.createElement("output");
    this.output.className = "value";
    this.output.setAttribute("aria-hidden", "true");
    this.root.append(this.output);
    this.input.after(this.track);
    this.root.classList.add("enhanced");

    let dragging = false;
    this.track.addEventListener("pointerdown", (e) => {
      dragging = true;
      this.track.setPointerCapture?.(e.pointerId);
      this.fromPointer(e);
    });
    this.track.addEventListener("pointermove", (e) => dragging && this.fromPointer(e));
    const stop = () => { dragging = false; };
    this.track.addEventListener("pointerup", stop);
    this.track.addEventListener("pointercancel", stop);
    this.track.addEventListener("keydown", (e) => this.onKey(e));
    this.skip?.addEventListener("change", () => { if (this.skip.checked) this.clear(); });
  }

  fromPointer(event) {
    const box = this.track.getBoundingClientRect();
    let ratio = (event.clientX - box.left) / box.width;
    if (getComputedStyle(this.track).direction === "rtl") ratio = 1 - ratio;
    this.set(this.min + Math.min(1, Math.max(0, ratio)) * (this.max - this.min));
    event.preventDefault();
  }

  onKey(event) {
    const moves = { ArrowRight: this.step, ArrowUp: this.step, ArrowLeft: -this.step,
      ArrowDown: -this.step, PageUp: 1, PageDown: -1 };
    const middle = (this.min + this.max) / 2;
    if (event.key in moves) {
      this.set(this.isMarked() ? Number(this.input.value) + moves[event.key] : middle);
    } else if (event.key === "Home") this.set(this.min);
    else if (event.key === "End") this.set(this.max);
    else return;
    event.preventDefault();
  }

  set(value, byHand = true) {
    const steps = Math.round((value - this.min) / this.step);
    const clamped = Math.min(this.max, Math.max(this.min, this.min + steps * this.step));
    const decimals = this.step < 1 ? 1 : 0;
    const text = clamped.toFixed(decimals);
    this.input.value = text;
    // Shown in the page's number format ("7,3" in Danish); the field keeps "7.3".
    const shown = new Intl.NumberFormat(document.documentElement.lang || undefined,
      { minimumFractionDigits: decimals, maximumFractionDigits: decimals }).format(clamped);
    this.output.textContent = shown;
    this.mark.style.insetInlineStart = `${((clamped - this.min) / (this.max - this.min)) * 100}%`;
    this.root.classList.add("marked");
    this.track.setAttribute("aria-valuenow", text);
    this.track.setAttribute("aria-valuetext", shown);
    if (this.skip) this.skip.checked = false;
    if (byHand) settle(this.fieldset);
  }

  clear() {
    this.input.value = "";
    this.output.textContent = "";
    this.root.classList.remove("marked");
    this.track.removeAttribute("aria-valuenow");
    this.track.setAttribute("aria-valuetext", this.root.dataset.unmarked);
  }

  isMarked() { return this.input.value !== ""; }
  answered() { return this.isMarked() || Boolean(this.skip?.checked); }
  focus() { this.track.focus(); }
}

// ---- Any question: answered when its line is marked or skipped, or a choice is checked.
function questionState(fieldset, lines) {
  const line = lines.get(fieldset);
  if (line) return { answered: line.answered(), focus: () => line.focus() };
  const first = fieldset.querySelector("input.choice");
  return {
    answered: Boolean(fieldset.querySelector("input.choice:checked")),
    focus: () => first?.focus(),
  };
}

// ---- A corrected question loses its error mark and message; the notice under the
// questions goes once nothing is left to correct.
function settle(fieldset) {
  fieldset.classList.remove("has-error");
  fieldset.querySelectorAll(".error").forEach((message) => message.remove());
  const form = fieldset.form || fieldset.closest("form");
  const notice = form.querySelector(".untouched");
  if (notice && !form.querySelector("fieldset.has-error")) notice.hidden = true;
}

// ---- Read aloud: the browser's speech synthesis, a Danish voice when there is one.
function setUpReadAloud() {
  if (!("speechSynthesis" in window)) return;  // the page works without it
  const lang = document.documentElement.lang || "da";
  const tag = { da: "da-DK", en: "en-GB", ar: "ar" }[lang] || lang;
  for (const button of document.querySelectorAll("button.speak")) {
    button.hidden = false;
    button.addEventListener("click", () => {
      const utterance = new SpeechSynthesisUtterance(button.dataset.speak);
      utterance.lang = tag;
      const voice = speechSynthesis.getVoices().find((v) => v.lang?.toLowerCase().startsWith(lang));
      if (voice) utterance.voice = voice;
      speechSynthesis.cancel();
      speechSynthesis.speak(utterance);
    });
  }
}

// ---- On a phone, one question per screen.
function setUpPager(form, items) {
  if (!window.matchMedia("(max-width: 599px)").matches || items.length < 2) return;
  const pager = form.querySelector(".pager");
  const send = form.querySelector("button.send");
  const where = pager.querySelector(".where");
  let current = 0;
  const show = (index) => {
    current = index;
    items.forEach((item, n) => item.toggleAttribute("data-hidden", n !== index));
    where.textContent = form.dataset.position
      .replace("{n}", index + 1).replace("{total}", items.length);
    pager.querySelector(".prev").disabled = index === 0;
    pager.querySelector(".next").hidden = index === items.length - 1;
    send.hidden = index !== items.length - 1;
  };
  form.classList.add("paged");
  pager.hidden = false;
  // One counter on a phone: the question counter replaces "questionnaire x of y".
  document.querySelector(".bar .progress")?.setAttribute("hidden", "");
  pager.querySelector(".prev").addEventListener("click", () => show(Math.max(0, current - 1)));
  pager.querySelector(".next").addEventListener("click", () => {
    show(Math.min(items.length - 1, current + 1));
    items[current].querySelector("legend").scrollIntoView({ block: "start" });
  });
  // After the server refused an answer, open on the first question it refused.
  show(Math.max(0, items.findIndex((item) => item.classList.contains("has-error"))));
  return show;
}

// ---- Sending: saved on the device first, retried until the server acknowledges.
// Only the answers, the submission id and the form token are kept: no names.
class Sender {
  constructor(form) {
    this.form = form;
    this.status = form.querySelector(".status");
    this.button = form.querySelector("button.send");
    const token = form.querySelector("input[name=csrf_token]").value;
    this.key = `feedback:pending:${token.slice(0, 16)}:${form.getAttribute("action")}`;
    this.delay = 2000;
    this.timer = null;
    window.addEventListener("online", () => this.retry());
  }

  pending() {
    try { return JSON.parse(localStorage.getItem(this.key)); } catch { return null; }
  }

  save() {
    const fields = [...new FormData(this.form).entries()];
    try { localStorage.setItem(this.key, JSON.stringify({ fields, at: Date.now() })); } catch { /* private mode: keep in memory */ }
    this.memory = fields;
  }

  clear() {
    try { localStorage.removeItem(this.key); } catch { /* nothing stored */ }
    this.memory = null;
  }

  restore() {
    const saved = this.pending();
    if (!saved) return false;
    for (const [name, value] of saved.fields) {
      const field = this.form.elements.namedItem(name);
      if (!field) continue;
      if (field instanceof RadioNodeList || field.type === "radio" || field.type === "checkbox") {
        const options = field instanceof RadioNodeList ? [...field] : [field];
        options.forEach((o) => { if (o.value === value) o.checked = true; });
      } else field.value = value;
    }
    return true;
  }

  async send() {
    const fields = this.pending()?.fields || this.memory;
    if (!fields) return;
    clearTimeout(this.timer);
    this.button.disabled = true;
    this.status.classList.remove("offline");
    this.status.textContent = this.form.dataset.sending;
    let response;
    try {
      response = await fetch(this.form.getAttribute("action"), {
        method: "POST", body: new URLSearchParams(fields), credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
    } catch {
      return this.wait();  // no connection, or the reply was lost: try again
    }
    if (response.status >= 500 || response.status === 429) return this.wait();
    let body = {};
    try { body = await response.json(); } catch { /* not JSON: a page */ }
    if (response.ok || response.status === 409) {
      this.clear();  // acknowledged (or already answered): nothing left to send
      window.location.assign(body.next || window.location.pathname);
      return;
    }
    // Refused as invalid: let the server show the form with its messages.
    this.clear();
    this.form.submit();
  }

  wait() {
    this.button.disabled = false;
    this.status.classList.add("offline");
    this.status.textContent = this.form.dataset.offline;
    this.timer = setTimeout(() => this.send(), this.delay);
    this.delay = Math.min(this.delay * 2, 30000);
  }

  retry() {
    if (this.pending() || this.memory) { this.delay = 2000; this.send(); }
  }
}

const form = document.querySelector("form.answers");
if (form) {
  const lines = new Map();
  for (const el of form.querySelectorAll(".scale.line")) {
    const line = new LineScale(el);
    lines.set(line.fieldset, line);
  }
  const items = [...form.querySelectorAll("fieldset.item")];
  const show = setUpPager(form, items);
  const sender = new Sender(form);
  if (sender.restore()) {
    // Answers from before a lost connection or a reload: show them and send again.
    for (const line of lines.values()) if (line.input.value !== "") line.set(Number(line.input.value), false);
    sender.send();
  }
  form.addEventListener("change", (e) => {
    const item = e.target.closest("fieldset.item");
    if (item && questionState(item, lines).answered) settle(item);
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const notice = form.querySelector(".untouched");
    const missing = items.filter((item) => !questionState(item, lines).answered);
    if (missing.length) {
      notice.textContent = form.dataset.untouched;
      notice.hidden = false;
      missing.forEach((item) => item.classList.add("has-error"));
      if (show) show(items.indexOf(missing[0]));
      questionState(missing[0], lines).focus();
      return;
    }
    notice.hidden = true;
    sender.save();
    sender.send();
  });
  setUpReadAloud();
}
