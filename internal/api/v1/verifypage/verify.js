// The /verify page: sends the pasted QR text, or a PNG image as base64, to
// this server's POST /api/v1/verify and shows the result. Nothing is sent
// anywhere else; the result is written with textContent only.
"use strict";

(function () {
  var form = document.getElementById("verify-form");
  var qr = document.getElementById("qr");
  var image = document.getElementById("image");
  var result = document.getElementById("result");

  function text(id, value) {
    document.getElementById(id).textContent = value;
  }

  function show(res) {
    result.hidden = false;
    result.className = res.valid ? "valid" : "invalid";
    text("verdict", res.valid ? "Valid certificate" : (res.revoked ? "Revoked certificate" : "Not valid"));
    text("reason", res.reason || (res.format ? "Format: " + (res.format === "shc" ? "SMART Health Card" : "EU Digital COVID Certificate") : ""));
    var holder = document.getElementById("holder");
    holder.replaceChildren();
    if (res.holder) {
      [["Name", res.holder.name], ["Date of birth", res.holder.birth_date]].forEach(function (p) {
        var dt = document.createElement("dt");
        dt.textContent = p[0];
        var dd = document.createElement("dd");
        dd.textContent = p[1];
        holder.append(dt, dd);
      });
    }
    var table = document.getElementById("doses");
    var body = table.querySelector("tbody");
    body.replaceChildren();
    (res.doses || []).forEach(function (d) {
      var tr = document.createElement("tr");
      [d.of ? d.dose + " of " + d.of : String(d.dose), d.vaccine, d.date, d.country || "", d.issuer || ""].forEach(function (v) {
        var td = document.createElement("td");
        td.textContent = v;
        tr.append(td);
      });
      body.append(tr);
    });
    table.hidden = !(res.doses && res.doses.length);
  }

  function send(body) {
    fetch("/api/v1/verify", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      credentials: "omit",
      cache: "no-store"
    }).then(function (r) {
      return r.json();
    }).then(function (res) {
      if (res.errorCode) {
        show({ valid: false, reason: res.error });
      } else {
        show(res);
      }
    }).catch(function () {
      show({ valid: false, reason: "The verifier could not be reached." });
    });
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var file = image.files && image.files[0];
    if (file) {
      var reader = new FileReader();
      reader.onload = function () {
        var url = String(reader.result);
        send({ image: url.slice(url.indexOf(",") + 1) });
        image.value = "";
      };
      reader.readAsDataURL(file);
      return;
    }
    send({ qr: qr.value });
  });
})();
