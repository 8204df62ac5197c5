// gender-budget pages: drag-and-drop upload, progress polling, reviews saved at once, other clerks' saves shown.
(function () {
  "use strict";
  var token = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }

  // --- 分類: drag and drop -------------------------------------------------------------------
  var drop = $("#drop"), input = $("#files"), chosen = $("#chosen");
  function listFiles() {
    if (!chosen || !input) return;
    chosen.textContent = "";
    Array.prototype.forEach.call(input.files, function (f) {
      var li = document.createElement("li");
      li.textContent = f.name + "（" + Math.ceil(f.size / 1024) + " KB）";
      chosen.appendChild(li);
    });
  }
  if (drop && input) {
    input.addEventListener("change", listFiles);
    ["dragenter", "dragover"].forEach(function (t) {
      drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.add("over"); });
    });
    ["dragleave", "drop"].forEach(function (t) {
      drop.addEventListener(t, function (e) { e.preventDefault(); drop.classList.remove("over"); });
    });
    drop.addEventListener("drop", function (e) {
      var dt = new DataTransfer();
      Array.prototype.forEach.call(input.files, function (f) { dt.items.add(f); });
      Array.prototype.forEach.call(e.dataTransfer.files, function (f) { dt.items.add(f); });
      input.files = dt.files;
      listFiles();
    });
  }
  var classify = $("#classify-form");
  if (classify) {
    classify.addEventListener("submit", function () {
      var button = $("button[type=submit]", classify);
      button.disabled = true;
      button.textContent = "上傳中…";
    });
  }

  // --- progress ------------------------------------------------------------------------------
  var progress = $("#progress");
  if (progress) {
    var poll = function () {
      fetch(progress.dataset.url, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (s.status !== "queued" && s.status !== "running") { location.href = progress.dataset.done; return; }
          $("#stage").textContent = s.stage_label;
          var n = function (x) { return Number(x).toLocaleString("zh-TW"); };
          $("#count").textContent = s.total ? n(s.done) + " / " + n(s.total) + " 列" : (s.done ? n(s.done) + " 列" : "");
          var bar = $("#bar");
          if (s.total) { bar.max = s.total; bar.value = s.done; } else { bar.removeAttribute("value"); }
          setTimeout(poll, 500);
        })
        .catch(function () { setTimeout(poll, 2000); });
    };
    poll();
  }

  // --- 覆核: save at once ------------------------------------------------------------------------
  function notice(text, kind) {
    var box = $("#notices");
    if (!box) return;
    var p = document.createElement("p");
    p.className = "notice " + (kind || "");
    p.textContent = text;
    box.appendChild(p);
  }

  function showFigures(f) {
    if (!f) return;
    ["budget_total", "gender_total", "share", "review_lines", "review_total", "reviewed"].forEach(function (k) {
      var el = $('[data-fig="' + k + '"]');
      if (el) el.textContent = f[k];
    });
    (f.by_class || []).forEach(function (c) {
      var bar = $('[data-class-bar="' + c.number + '"]'), value = $('[data-class-value="' + c.number + '"]');
      if (bar) bar.setAttribute("width", (c.bar * 330).toFixed(1));
      if (value) value.textContent = c.amount + "（" + c.lines + " 列）";
    });
  }

  function showLine(idx, line) {
    var tr = document.getElementById("line-" + idx);
    if (!tr || !line) return;
    tr.className = "st-" + line.status;
    var status = $('[data-field="status"]', tr), category = $('[data-field="category"]', tr), gender = $('[data-field="gender"]', tr);
    if (status) {
      status.textContent = line.status_label;
      if (line.reviewed) { status.appendChild(document.createElement("br")); var b = document.createElement("span"); b.className = "badge"; b.textContent = "已覆核"; status.appendChild(b); }
    }
    if (category) category.textContent = (line.status === "matched" || line.status === "review") ? line.category : "";
    if (gender) gender.textContent = line.gender;
  }

  function save(form) {
    var state = $(".state", form);
    state.textContent = "儲存中…";
    state.className = "state";
    fetch(form.action, { method: "POST", body: new FormData(form), headers: { Accept: "application/json", "X-CSRF-Token": token } })
      .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
      .then(function (res) {
        if (!res.ok) {
          var p = (res.body.problems || [])[0] || {};
          state.textContent = "未儲存：" + (p.message || "錯誤") + (p.hint ? "（" + p.hint + "）" : "");
          state.className = "state error";
          return;
        }
        form.elements.version.value = res.body.version;
        state.textContent = res.body.conflict ? "已儲存（已覆蓋他人的修改）" : "已儲存";
        state.className = "state saved";
        if (res.body.notice) notice(res.body.notice, "warn");
        showLine(form.dataset.idx, res.body.line);
        showFigures(res.body.figures);
      })
      .catch(function () { state.textContent = "未儲存：無法連線到伺服器"; state.className = "state error"; });
  }

  $all("form.review").forEach(function (form) {
    form.addEventListener("submit", function (e) { e.preventDefault(); save(form); });
    $all("select, input", form).forEach(function (el) {
      if (el.type === "hidden") return;
      el.addEventListener("change", function () { save(form); });
    });
  });

  // --- another clerk's saves --------------------------------------------------------------------
  var figures = $("#figures");
  var seen = figures ? parseInt(figures.dataset.seq || "0", 10) : 0;
  if (figures && figures.dataset.changes) {
    var follow = function () {
      fetch(figures.dataset.changes + "?since=" + seen, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          (body.changes || []).forEach(function (c) {
            var form = $('form.review[data-idx="' + c.idx + '"]');
            if (form && String(form.elements.version.value) !== String(c.version)) {
              form.elements.category.value = c.category;
              form.elements.amount.value = c.amount;
              form.elements.percent.value = c.percent;
              form.elements.note.value = c.note;
              form.elements.version.value = c.version;
              var state = $(".state", form);
              state.textContent = "另一位同仁於 " + c.saved + " 修改了此列";
              state.className = "state warn";
              showLine(c.idx, c.line);
              notice("另一位同仁於 " + c.saved + " 修改了第 " + (c.idx + 2) + " 列：" + (c.text || "清除覆核"), "warn");
            }
          });
          seen = Math.max(seen, body.seq || 0);
          showFigures(body.figures);
          setTimeout(follow, 4000);
        })
        .catch(function () { setTimeout(follow, 8000); });
    };
    setTimeout(follow, 4000);
  }
})();
