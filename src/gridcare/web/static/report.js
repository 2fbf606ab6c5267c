// Charts of the monitoring report (ECharts, SVG so they print sharply). Reads the report's JSON
// from #report-data; animation is off so a printout or PDF shows the final picture.
(function () {
  function draw() {
    var node = document.getElementById("report-data");
    if (!node || !window.echarts) return;
    var r = JSON.parse(node.textContent);
    var base = { animation: false, textStyle: { fontFamily: "WenQuanYi Micro Hei, Microsoft YaHei, sans-serif" } };
    function chart(id, option) {
      var el = document.getElementById(id);
      if (!el) return;
      var c = echarts.init(el, null, { renderer: "svg" });
      c.setOption(Object.assign({}, base, option));
      window.addEventListener("resize", function () { c.resize(); });
    }
    function pie(id, title, rows) {
      chart(id, {
        title: { text: title, left: "center", textStyle: { fontSize: 14 } },
        tooltip: { trigger: "item", formatter: "{b}：{c}（{d}%）" },
        series: [{ type: "pie", radius: ["35%", "62%"], top: 24,
                   label: { formatter: "{b}\n{d}%" },
                   data: rows.filter(function (x) { return x.value > 0; }) }]
      });
    }
    pie("chart-type", "业务类型构成", r.by_type.map(function (x) { return { name: x.name, value: x.count }; }));
    pie("chart-l1", "投诉一级分类", r.complaints_by_category.l1.map(function (x) { return { name: x.name, value: x.count }; }));
    var units = r.by_unit.counties.length > 1 ? r.by_unit.counties : r.by_unit.stations;
    chart("chart-units", {
      title: { text: "万户投诉量", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" }, grid: { left: 50, right: 20, bottom: 70, top: 40 },
      xAxis: { type: "category", data: units.map(function (u) { return u.name; }), axisLabel: { rotate: 35, fontSize: 11 } },
      yAxis: { type: "value" },
      series: [{ type: "bar", data: units.map(function (u) { return u.complaints_per_10k || 0; }), itemStyle: { color: "#0b6e4f" } }]
    });
    chart("chart-hour", {
      title: { text: "受理时段（小时）", left: 0, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" }, legend: { top: 0, right: 10 }, grid: { left: 50, right: 50, bottom: 30, top: 55 },
      xAxis: { type: "category", data: r.by_hour.map(function (h) { return h.hour + "时"; }) },
      yAxis: [{ type: "value", name: "工单" }, { type: "value", name: "投诉" }],
      series: [
        { name: "工单", type: "bar", data: r.by_hour.map(function (h) { return h.orders; }), itemStyle: { color: "#8fb9a8" } },
        { name: "投诉", type: "line", yAxisIndex: 1, data: r.by_hour.map(function (h) { return h.complaints; }), itemStyle: { color: "#c0392b" } }
      ]
    });
    chart("chart-weekday", {
      title: { text: "星期分布", left: 0, textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" }, legend: { top: 0, right: 10 }, grid: { left: 50, right: 50, bottom: 30, top: 55 },
      xAxis: { type: "category", data: r.by_weekday.map(function (d) { return d.name; }) },
      yAxis: [{ type: "value", name: "工单" }, { type: "value", name: "投诉" }],
      series: [
        { name: "工单", type: "bar", data: r.by_weekday.map(function (d) { return d.orders; }), itemStyle: { color: "#8fb9a8" } },
        { name: "投诉", type: "line", yAxisIndex: 1, data: r.by_weekday.map(function (d) { return d.complaints; }), itemStyle: { color: "#c0392b" } }
      ]
    });
    var steps = r.steps.by_step;
    chart("chart-steps", {
      title: { text: "各环节超时率", left: "center", textStyle: { fontSize: 14 } },
      tooltip: { trigger: "axis" }, grid: { left: 80, right: 30, bottom: 30, top: 40 },
      xAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
      yAxis: { type: "category", inverse: true, data: steps.map(function (s) { return s.name; }) },
      series: [{ type: "bar", data: steps.map(function (s) { return s.overdue_rate || 0; }), itemStyle: { color: "#b9770e" },
                 label: { show: true, position: "right", formatter: "{c}%" } }]
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
