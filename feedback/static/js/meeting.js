// The meeting page: new answers appear without a reload, and the journal copies.
// No framework; loaded as a module from the page (the CSP forbids inline scripts).

const box = document.getElementById("live-results");
const status = document.getElementById("live-status");

async function poll() {
  const url = new URL(box.dataset.url, window.location.href);
  url.searchParams.set("since", box.dataset.stamp);
  let response;
  try {
    response = await fetch(url, {credentials: "same-origin", cache: "no-store",
                                 headers: {"Accept": "text/html"}, redirect: "manual"});
  } catch (error) {
    return true; // offline for a moment: try again later
  }
  if (response.status === 204) return true;
  if (!response.ok || response.type === "opaqueredirect") {
    return false; // signed out, or no longer allowed: stop asking
  }
  const html = await response.text();
  const stamp = response.headers.get("X-Results-Stamp");
  const focused = document.activeElement && box.contains(document.activeElement)
    ? document.activeElement.id : null;
  box.innerHTML = html;
  if (stamp) box.dataset.stamp = stamp;
  if (focused && document.getElementById(focused)) document.getElementById(focused).focus();
  if (status) status.textContent = box.dataset.updated;
  return true;
}

function schedule() {
  const seconds = Number(box.dataset.seconds) || 4;
  window.setTimeout(async () => {
    // A hidden tab does not ask; it catches up when shown again.
    const keepGoing = document.hidden ? true : await poll();
    if (keepGoing) schedule();
  }, seconds * 1000);
}

async function copy(button) {
  const source = document.getElementById(button.dataset.copy);
  if (!source) return;
  const text = source.textContent.trim();
  try {
    await navigator.clipboard.writeText(text);
  } catch (error) {
    // Without clipboard access (plain HTTP): select the text so Ctrl+C copies it.
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    return;
  }
  const label = button.textContent;
  button.textContent = button.dataset.copied;
  window.setTimeout(() => { button.textContent = label; }, 2000);
}

document.addEventListener("click", (event) => {
  const button = event.target.closest("button.copy");
  if (button) copy(button);
});

if (box) schedule();
