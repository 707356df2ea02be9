// Evidence (存证): hash a chosen file in the browser so that only its hash is sent.
// A form with data-evidence-hash has a file input (name="file"), a hash field (name="hash") and an algorithm select.
// When a file is chosen its SHA-256 is computed here (crypto.subtle.digest) and written into the hash field; on submit
// the file input is disabled, so the browser does not send the file. Where that cannot be done (another algorithm, a
// browser without crypto.subtle, a page not served over HTTPS, a file too large to read at once) the form is sent as
// it is: the server hashes the upload as it streams in and does not keep it.
(function () {
  "use strict";

  var MAX_BYTES = 1024 * 1024 * 1024; // read into memory at once: larger files are hashed by the server

  function canHash() {
    return Boolean(window.crypto && window.crypto.subtle && window.isSecureContext);
  }

  function hex(buffer) {
    var bytes = new Uint8Array(buffer);
    var out = "";
    for (var i = 0; i < bytes.length; i++) {
      out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    }
    return out;
  }

  function parts(form) {
    return {
      file: form.querySelector('input[type="file"][name="file"]'),
      hash: form.querySelector('[name="hash"]'),
      algorithm: form.querySelector('[name="algorithm"]'),
      mediaType: form.querySelector('[name="media_type"]'),
      status: form.querySelector("[data-evidence-status]"),
    };
  }

  function say(form, key, css) {
    var status = parts(form).status;
    if (!status) {
      return;
    }
    status.textContent = form.dataset[key] || "";
    status.className = "small mb-3 " + (css || "text-secondary");
  }

  function hashable(form) {
    var p = parts(form);
    var file = p.file && p.file.files && p.file.files[0];
    if (!file || !canHash() || file.size > MAX_BYTES) {
      return null;
    }
    if (p.algorithm && p.algorithm.value !== "sha256") {
      return null;
    }
    return file;
  }

  // Hash the chosen file; resolves to the hex digest, or null when the browser cannot (the server will).
  function hashFile(form) {
    var file = hashable(form);
    if (!file) {
      return Promise.resolve(null);
    }
    if (form._evidenceFile === file && form._evidenceDigest) {
      return form._evidenceDigest;
    }
    say(form, "hashingText");
    form._evidenceFile = file;
    form._evidenceDigest = file.arrayBuffer()
      .then(function (buffer) { return window.crypto.subtle.digest("SHA-256", buffer); })
      .then(function (digest) {
        var value = hex(digest);
        var p = parts(form);
        if (p.hash) {
          p.hash.value = value;
        }
        if (p.mediaType && !p.mediaType.value && file.type) {
          p.mediaType.value = file.type;
        }
        say(form, "hashedText", "text-success");
        return value;
      })
      .catch(function () {
        form._evidenceFile = null;
        form._evidenceDigest = null;
        say(form, "failedText", "text-warning");
        return null;
      });
    return form._evidenceDigest;
  }

  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (!form || !form.hasAttribute("data-evidence-hash")) {
      return;
    }
    if (event.target.name === "file" || event.target.name === "algorithm") {
      var p = parts(form);
      if (event.target.name === "file" && p.hash) {
        p.hash.value = "";
      }
      if (!hashable(form) && p.file && p.file.files && p.file.files.length) {
        say(form, "failedText", "text-warning");
        return;
      }
      hashFile(form);
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-evidence-hash")) {
      return;
    }
    if (!hashable(form)) {
      return; // no file, or one the server hashes
    }
    event.preventDefault();
    var submit = form.querySelector('[type="submit"]');
    if (submit) {
      submit.disabled = true;
    }
    hashFile(form).then(function (digest) {
      var p = parts(form);
      if (digest && p.file) {
        p.file.disabled = true; // a disabled input is not sent: only the hash leaves this computer
      }
      form.submit(); // does not fire "submit" again
      if (p.file) {
        window.setTimeout(function () { p.file.disabled = false; }, 0);
      }
      if (submit) {
        window.setTimeout(function () { submit.disabled = false; }, 3000);
      }
    });
  });
})();
