// Tap or focus a point of a case graph: a box with its date, score and items.
// The same text is the point's accessible name (aria-label), so nothing here is
// needed to read the graph; this only shows it on a tablet, which cannot hover.
// Listens on the document, so graphs put in later (the meeting page's live
// results replace theirs as answers arrive) work the same.
const show = (svg, point) => {
  const tip = svg.querySelector(":scope > .tip");
  if (!tip) return;
  const [box, first, second] = [tip.querySelector("rect"), tip.querySelector(".tip1"),
    tip.querySelector(".tip2")];
  const width = svg.viewBox.baseVal.width;
  const label = point.getAttribute("aria-label") || "";
  const open = label.indexOf(" (");
  first.textContent = open > 0 ? label.slice(0, open) : label;
  second.textContent = open > 0 ? label.slice(open + 2, -1) : "";
  const shape = point.querySelector("circle, rect");
  const x = Number(shape.getAttribute("cx") || shape.getAttribute("x"));
  const y = Number(shape.getAttribute("cy") || shape.getAttribute("y"));
  const w = Math.max(first.getComputedTextLength(), second.getComputedTextLength()) + 16;
  const h = second.textContent ? 44 : 26;
  const left = Math.min(Math.max(x - w / 2, 4), width - w - 4);
  const top = y > 70 ? y - h - 14 : y + 14;
  box.setAttribute("x", left); box.setAttribute("y", top);
  box.setAttribute("width", w); box.setAttribute("height", h);
  first.setAttribute("x", left + 8); first.setAttribute("y", top + 18);
  second.setAttribute("x", left + 8); second.setAttribute("y", top + 37);
  tip.classList.add("shown");
};

document.addEventListener("focusin", (event) => {
  const point = event.target.closest && event.target.closest("svg.chart .pt");
  if (point) show(point.closest("svg.chart"), point);
});
document.addEventListener("focusout", (event) => {
  const svg = event.target.closest && event.target.closest("svg.chart");
  const tip = svg && svg.querySelector(":scope > .tip");
  if (tip) tip.classList.remove("shown");
});
