// Chinese for the few words Gradio's frontend writes in English whatever the locale (they are not
// in its translation tables, so gr.I18n cannot reach them): the progress line ("processing |",
// "queue: 2/3 |", the "4.0/0.1s" timer), the cache note, and the client's errors a writer can meet (upload
// limit, a full queue, a lost connection).
// Each rule matches a whole text node exactly, so a writer's own text is never rewritten.
(() => {
  const num = "(\\d+(?:\\.\\d+)?)";
  const inTracker = (node) => !!node.parentElement?.closest(
    "[data-testid=status-tracker], .progress-text, .meta-text, .meta-text-center, .eta-bar, .progress-level");
  const RULES = [
    [/^processing \|$/, () => "处理中 |", inTracker],
    [/^queue: (\d+)\/(\d*) \|$/, (_m, pos, size) => `排队第${pos}位${size ? `，共${size}位` : ""} |`, inTracker],
    [new RegExp(`^${num}(?:/${num})?s$`), (_m, took, eta) => (eta ? `${took}/${eta}秒` : `${took}秒`), inTracker],
    [/^from cache$|^used cache$/, () => "取自缓存", inTracker],
    [/^Loading\.\.\.$/, () => "加载中…", inTracker],
    [/^This application is currently busy\. Please try again\.$/,
      () => "拟稿助手现在太忙，排队的请求已满。请稍等片刻再点一次；已填写的内容都还在。", () => true],
    [/^Connection errored out\./,
      () => "连接不上拟稿助手的服务。请确认服务仍在运行，稍后刷新页面再试。", () => true],
    [/^File\(s\) exceed the maximum allowed size of ([\d.]+) ?([KMGTkmgt]?i?b): (.*)$/,
      (_m, size, unit, names) => `文件超过网页允许的上传上限（${size} ${unit.toUpperCase().replace("B", "") }B）：`
        + `${names.replace(/"/g, "")}。请把文件拆成几个较小的文件再上传。`, () => true],
  ];
  const fix = (node) => {
    const text = node.nodeValue;
    if (!text || text.length > 400 || !/[A-Za-z]/.test(text)) return;
    const trimmed = text.trim();
    for (const [re, to, where] of RULES) {
      const m = trimmed.match(re);
      if (m && where(node)) {
        node.nodeValue = text.replace(trimmed, to(...m));
        return;
      }
    }
  };
  const walk = (root) => {
    if (root.nodeType === Node.TEXT_NODE) return fix(root);
    const it = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = it.nextNode(); n; n = it.nextNode()) fix(n);
  };
  const start = () => {
    walk(document.body);
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === "characterData") fix(r.target);
        else r.addedNodes.forEach(walk);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  };
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
