// a second tap on a form that changes something, while the first is on its way, does not
// send it again (the server decides once anyway; this spares a weak network the second
// request). A GET form only reads, and one that downloads (下载 Excel) leaves the page where
// it is, so nothing would ever clear its flag: it is sent every time it is tapped.
document.addEventListener("submit", function (e) {
  var form = e.target, method = (e.submitter && e.submitter.getAttribute("formmethod")) || form.method;
  if (String(method).toLowerCase() !== "post") return;
  if (form.dataset.sent) { e.preventDefault(); return; }
  form.dataset.sent = "1";
});
window.addEventListener("pageshow", function (e) {  // back to a page kept in memory
  if (e.persisted) document.querySelectorAll("form").forEach(function (f) { delete f.dataset.sent; });
});
