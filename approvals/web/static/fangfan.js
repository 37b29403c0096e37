// a second tap while the first is on its way does not send the form again (the server
// decides once anyway; this spares a weak network the second request)
document.addEventListener("submit", function (e) {
  if (e.target.dataset.sent) { e.preventDefault(); return; }
  e.target.dataset.sent = "1";
});
window.addEventListener("pageshow", function (e) {  // back to a page kept in memory
  if (e.persisted) document.querySelectorAll("form").forEach(function (f) { delete f.dataset.sent; });
});
