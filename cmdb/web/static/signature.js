// A signature drawn with a finger or a mouse on the close form's canvas, sent as a PNG data URL.
(function () {
  "use strict";
  const pad = document.getElementById("signature-pad");
  const field = document.getElementById("signature");
  if (!pad || !field) return;
  const ctx = pad.getContext("2d");
  let drawing = false, drawn = false;
  function clear() {
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, pad.width, pad.height);
    drawn = false;
    field.value = "";
  }
  function point(e) {
    const r = pad.getBoundingClientRect();
    return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
  }
  pad.addEventListener("pointerdown", (e) => {
    drawing = true;
    pad.setPointerCapture(e.pointerId);
    const [x, y] = point(e);
    ctx.beginPath();
    ctx.moveTo(x, y);
  });
  pad.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const [x, y] = point(e);
    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    ctx.strokeStyle = "#000";
    ctx.lineTo(x, y);
    ctx.stroke();
    drawn = true;
  });
  const stop = () => {
    if (drawing && drawn) field.value = pad.toDataURL("image/png");
    drawing = false;
  };
  pad.addEventListener("pointerup", stop);
  pad.addEventListener("pointercancel", stop);
  document.getElementById("signature-clear").addEventListener("click", clear);
  clear();
})();
