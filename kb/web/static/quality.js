// The assessment table's live scores: on every change, the scores are sent to
// POST /api/quality-check (the one implementation of the rule, on the server) and the domain
// scores, the overall score and the verdict are shown. Without JavaScript, saving shows them.
(function () {
  var form = document.querySelector("form[data-live]");
  if (!form) { return; }
  var numbers = {met: 1, partly: 0.5, not_met: 0, unknown: null};
  // percents as the page's language writes them ("33,3 %" in Latvian), like the server does
  var decimal = new Intl.NumberFormat(document.documentElement.lang || "lv",
                                      {maximumFractionDigits: 1});
  function percent(value) { return value === null ? "—" : decimal.format(value) + " %"; }
  function show(result) {
    result.domains.forEach(function (row) {
      var tr = document.querySelector('#domain-scores tr[data-domain="' + row.domain + '"]');
      if (!tr) { return; }
      tr.querySelector(".score").textContent = percent(row.score);
      tr.querySelector(".known").textContent = row.known + "/" + row.indicators;
    });
    document.getElementById("overall").textContent = percent(result.overall);
    var verdict = document.getElementById("verdict");
    verdict.textContent = result.verdict;
    verdict.className = "reading " + (result.good_practice ? "reading-all" : "reading-some");
  }
  form.addEventListener("change", function (event) {
    if (event.target.type !== "radio") { return; }
    var scores = {};
    form.querySelectorAll("input[type=radio]:checked").forEach(function (input) {
      scores[input.name.slice(4)] = numbers[input.value];
    });
    fetch(form.dataset.live, {
      method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({scores: scores, lang: form.dataset.lang})
    }).then(function (response) { return response.ok ? response.json() : null; })
      .then(function (result) { if (result) { show(result); } });
  });
}());
