// The answer form, progressively enhanced. One module so the first view needs
// only three requests (page, CSS, this). Without JavaScript each line is a number field.


class LineScale {
  constructor(root) {
    this.root = root;
    this.input = root.querySelector("input[type=number]");
    this.min = Number(root.dataset.min);
    this.max = Number(root.dataset.max);
    this.step = Number(root.dataset.step);
    this.skip = root.parentElement.querySelector(".skip input");
    this.build();
    if (this.input.value !== "") this.set(Number(this.input.value));
  }

  build() {
    const legend = this.root.closest("fieldset").querySelector("legend");
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
    this.root.querySelector(".anchor.high").after(this.output);
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
    this.skip?.addEventListener("change", () => {
      if (this.skip.checked) this.clear();
    });
  }

  fromPointer(event) {
    const box = this.track.getBoundingClientRect();
    let ratio = (event.clientX - box.left) / box.width;
    if (document.dir === "rtl" || getComputedStyle(this.track).direction === "rtl") ratio = 1 - ratio;
    this.set(this.min + Math.min(1, Math.max(0, ratio)) * (this.max - this.min));
    event.preventDefault();
  }

  onKey(event) {
    const big = 1, small = this.step;
    const current = this.isMarked() ? Number(this.input.value) : (this.min + this.max) / 2;
    const moves = {
      ArrowRight: small, ArrowUp: small, ArrowLeft: -small, ArrowDown: -small,
      PageUp: big, PageDown: -big,
    };
    if (event.key in moves) this.set(this.isMarked() ? current + moves[event.key] : current);
    else if (event.key === "Home") this.set(this.min);
    else if (event.key === "End") this.set(this.max);
    else return;
    event.preventDefault();
  }

  set(value) {
    const steps = Math.round((value - this.min) / this.step);
    const clamped = Math.min(this.max, Math.max(this.min, this.min + steps * this.step));
    const text = clamped.toFixed(this.step < 1 ? 1 : 0);
    this.input.value = text;
    this.output.textContent = text;
    const ratio = (clamped - this.min) / (this.max - this.min);
    this.mark.style.left = `${ratio * 100}%`;
    this.root.classList.add("marked");
    this.track.setAttribute("aria-valuenow", text);
    this.track.setAttribute("aria-valuetext", text);
    if (this.skip) this.skip.checked = false;
    this.root.closest("fieldset").classList.remove("has-error");
  }

  clear() {
    this.input.value = "";
    this.output.textContent = "";
    this.root.classList.remove("marked");
    this.track.removeAttribute("aria-valuenow");
    this.track.setAttribute("aria-valuetext", this.root.dataset.unmarked);
  }

  isMarked() { return this.input.value !== ""; }
  isSkipped() { return Boolean(this.skip?.checked); }
  focus() { this.track.focus(); }
}


const form = document.querySelector("form.answers");
if (form) {
  const scales = [...form.querySelectorAll(".scale.line")].map((el) => new LineScale(el));
  form.addEventListener("submit", (event) => {
    // An untouched line cannot be submitted: mark it or skip it. The server checks too.
    const untouched = scales.filter((s) => !s.isMarked() && !s.isSkipped());
    const notice = form.querySelector(".untouched");
    if (untouched.length) {
      event.preventDefault();
      notice.textContent = form.dataset.untouched;
      notice.hidden = false;
      untouched[0].focus();
    } else {
      notice.hidden = true;
      form.querySelector("button.send").disabled = true;  // no double-tap double-send
    }
  });
}
