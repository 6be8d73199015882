"""Command-line interface.  The contract (commands, JSON fields, exit codes) is in PRODUCT.md.

Exit codes: 0 success; 1 success that needs review (e.g. some files failed to ingest);
2 an error, with a Chinese message on stderr.  Set ``DRAFTING_RAISE_ERRORS=1`` to see tracebacks.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from drafting.errors import DraftingError, InputError
from drafting.settings import Settings, get_settings, offline_environment

EXIT_OK, EXIT_REVIEW, EXIT_ERROR = 0, 1, 2


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")


def _store(settings: Settings) -> Any:
    from drafting.store import CorpusStore

    return CorpusStore(settings)


# ---- ingest ---------------------------------------------------------------------------------
def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from drafting.ingest import ingest

    paths = [Path(p) for p in args.paths]
    for p in paths:
        if not p.exists():
            raise InputError(f"找不到路径：{p}。请检查文件或文件夹名是否写对。")
    bar = None
    progress = None
    if sys.stderr.isatty() and not args.json:
        from tqdm import tqdm

        # no monitor thread: ingest forks its worker only from a single-threaded process
        tqdm.monitor_interval = 0
        bar = tqdm(total=0, unit="个文件", desc="导入", file=sys.stderr)

        def progress(done: int, total: int, name: str) -> None:
            assert bar is not None
            bar.total = total
            bar.n = done
            bar.set_postfix_str(name[-30:], refresh=True)

    try:
        report = ingest(paths, settings, progress=progress)
    finally:
        if bar is not None:
            bar.close()
    if args.json:
        _emit(report.to_json())
    else:
        print(
            f"导入完成：新增 {report.added} 篇，更新 {report.updated} 篇，未变 {report.unchanged} 篇，"
            f"失败 {len(report.failed)} 篇；本次写入 {report.chunks} 个段落。"
        )
        for f in report.failed:
            print(f"  失败：{f['path']}：{f['error']}")
    return EXIT_REVIEW if report.failed else EXIT_OK


# ---- search ---------------------------------------------------------------------------------
def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from drafting.search import Filters, search

    filters = Filters(
        doc_type=args.doc_type,
        year_from=args.year_from,
        year_to=args.year_to,
        issuer=args.issuer,
        exclude_doc_ids=args.exclude or [],
    )
    hits = search(_store(settings), args.query, k=args.k, filters=filters)
    if args.json:
        _emit({"hits": [h.to_json() for h in hits]})
        return EXIT_OK
    if not hits:
        print("没有找到相关段落。可以换个说法，或去掉筛选条件再试。")
    for n, h in enumerate(hits, 1):
        c = h.chunk
        path = " › ".join(c.heading_path) or "（正文开头）"
        text = c.text if len(c.text) <= 160 else c.text[:160] + "…"
        print(f"[{n}] {c.title or Path(c.source).name}（{c.year or '年份不详'}）\n    {path}\n    {text}\n")
    return EXIT_OK


# ---- docs -----------------------------------------------------------------------------------
def cmd_docs(args: argparse.Namespace, settings: Settings) -> int:
    store = _store(settings)
    if args.action == "remove":
        if not args.doc_id:
            raise InputError(
                "请给出要删除的文档编号：drafting docs remove DOC_ID（编号见 drafting docs list）。")
        info = store.remove_document(args.doc_id)
        if args.json:
            _emit({"removed": _doc_json(info)})
        else:
            print(f"已删除：{info.title or info.source}（{info.doc_id}），共 {info.chunks} 个段落。")
        return EXIT_OK
    docs = store.documents()
    if args.json:
        _emit({"docs": [_doc_json(d) for d in docs]})
        return EXIT_OK
    if store.format_notice():
        sys.stderr.write(store.format_notice() + "\n")
    if not docs:
        print("语料库还是空的。请先运行 drafting ingest corpus/ 导入往年材料。")
    for d in docs:
        flag = "" if d.complete else "（不完整，请重新导入）"
        print(f"{d.doc_id}  {d.chunks:>4} 段  {d.figures:>4} 个数字  {d.year or '----'}  "
              f"{d.title or Path(d.source).name}{flag}")
    return EXIT_OK


def _doc_json(d: Any) -> dict[str, Any]:
    return {
        "doc_id": d.doc_id,
        "title": d.title,
        "source": d.source,
        "issuer": d.issuer,
        "year": d.year,
        "doc_type": d.doc_type,
        "chunks": d.chunks,
        "figures": d.figures,
        "complete": d.complete,
    }


# ---- draft / check --------------------------------------------------------------------------
def _read_lines(source: str | None) -> list[str]:
    if source is None:
        return []
    text = sys.stdin.read() if source == "-" else _read_text(Path(source))
    return [line.strip() for line in text.splitlines() if line.strip()]


def _read_text(path: Path) -> str:
    from drafting.loaders import load_file

    if not path.exists():
        raise InputError(f"找不到文件：{path}。请检查文件名是否写对。")
    return load_file(path, max_bytes=20 * 1024 * 1024).text


def cmd_draft(args: argparse.Namespace, settings: Settings) -> int:
    from drafting.drafter import DraftRequest, draft
    from drafting.errors import EngineError

    req = DraftRequest(heading=args.heading, bullets=_read_lines(args.bullets), doc_type=args.doc_type,
                       target_chars=args.chars, past=args.past or "", year=args.year)

    def stream(delta: str) -> None:
        sys.stdout.write(delta)
        sys.stdout.flush()

    try:
        result = draft(req, settings, engine=_engine(args, settings), on_delta=None if args.json else stream)
    except EngineError as exc:
        if exc.partial and not args.json:
            sys.stdout.write("\n")
        elif exc.partial:
            _emit({"text": exc.partial, "status": "error", "error": exc.help_message})
        raise
    if args.json:
        _emit(result.to_json())
    else:
        sys.stdout.write("\n\n")
        _print_corpus(result.corpus)
        _print_checks(result.figures, result.terms, result.reasons())
        for note in result.notes:
            print(f"说明：{note}")
        if result.citations:
            print("借用了以下往年段落（套写）：")
            for c in result.citations:
                print(f"  · {c.title} › {' › '.join(c.heading_path)}"
                      f"（用于第{'、'.join(str(p + 1) for p in c.paragraphs)}段）")
        if result.references:
            print("可参考的往年段落（未借用其文字）：")
            for c in result.references:
                print(f"  · {c.title} › {' › '.join(c.heading_path)}")
        if result.provenance:
            from drafting.seam import SOURCE_ZH

            print("正文字数来源："
                  + "，".join(f"{SOURCE_ZH.get(k, k)}{v}字" for k, v in result.provenance.items()))
    return EXIT_OK if result.status == "ok" else EXIT_REVIEW


def _engine(args: argparse.Namespace, settings: Settings) -> Any:
    from drafting.drafter import get_engine

    return get_engine(settings, args.engine)


def _print_checks(guard: Any, terms: list[Any], reasons: list[str]) -> None:
    print(
        f"数字核对：提供 {len(guard.provided)} 个，漏写 {len(guard.missing)} 处，"
        f"有问题 {len(guard.unverified)} 处，"
        f"请核实 {len(guard.to_verify)} 处。"
    )
    for f in [*guard.missing, *guard.unverified]:
        print(f"  ✗ {f.message}")
    for f in guard.to_verify:
        print(f"  ！{f.message}")
    for t in terms:
        print(f"  提法（{t.severity}）：“{t.found}” → “{t.suggest}”：{t.reason}")
    if reasons:
        print("需要复核：" + "；".join(reasons))
    else:
        print("检查通过。")


def cmd_check(args: argparse.Namespace, settings: Settings) -> int:
    from drafting.drafter import DraftRequest, check, require_words

    text = sys.stdin.read() if args.file == "-" else _read_text(Path(args.file))
    if not text.strip():
        raise InputError("要检查的稿件是空的。请给出稿件文件，或用 - 从标准输入读入。")
    require_words(text, "要检查的稿件")
    bullets = _read_lines(args.bullets)
    provided = "\n".join(bullets)
    guard, terms = check(text, DraftRequest("", bullets).sources())
    review = bool(guard.unverified or guard.missing or any(not d.ok for d in guard.derived)) or any(
        t.severity == "必错" for t in terms
    )
    if args.bullets is None:  # without bullets there is nothing to verify figures against
        review = any(t.severity == "必错" for t in terms)
    corpus = _corpus_checks(settings, text, provided, args)
    review = review or corpus.blocking
    if args.json:
        figures = (guard.to_json() if args.bullets is not None
                   else {**guard.to_json(), "unverified": [], "to_verify": []})
        _emit({"status": "needs_review" if review else "ok", "figures": figures,
               "terms": [t.to_json() for t in terms], "corpus": corpus.to_json()})
    else:
        _print_corpus(corpus)
        if args.bullets is None:
            also = "，并与语料库中的往年数字和政策原文核对" if _corpus_wanted(args) else ""
            print(f"未提供要点文件（--bullets），不核对数字的出处；只检查规范提法{also}。")
        for t in terms:
            print(f"第{t.start}字处 提法（{t.severity}）：“{t.found}” → “{t.suggest}”：{t.reason}")
        if args.bullets is not None:
            _print_checks(guard, [], [])
        print("需要复核。" if review else "检查通过。")
    return EXIT_REVIEW if review else EXIT_OK


def _corpus_wanted(args: argparse.Namespace) -> bool:
    wanted = getattr(args, "corpus", True) or args.year is not None or args.issuer is not None
    return bool(wanted and not args.no_corpus)


def _corpus_checks(settings: Settings, text: str, provided: str, args: argparse.Namespace) -> Any:
    from drafting.corpuscheck import CorpusChecks, corpus_checks

    # `check` keeps its contract (status from the figures and the terms) unless the corpus is asked for
    if not _corpus_wanted(args) or (not settings.chroma_url and not settings.store_path().exists()):
        return CorpusChecks()
    return corpus_checks(None, settings, text, provided, year=args.year, issuer=args.issuer)


def _print_corpus(corpus: Any) -> None:
    for f in corpus.ledger:
        mark = "！" if f.severity == "必查" else "建议"
        print(f"  {mark} 台账（{f.source.issuer} {f.source.label}）“{f.raw}”：{f.message}")
    for c in corpus.citations:
        print(f"  {'！' if c.severity == '必查' else '提示'} 引用：{c.message}")
    for n in corpus.notes:
        print(f"  {n}")


def cmd_ledger(args: argparse.Namespace, settings: Settings) -> int:
    from drafting.errors import EmptyCorpusError

    store = _store(settings)
    if store.count() == 0:
        raise EmptyCorpusError()
    series = store.ledger().series(args.indicator, issuer=args.issuer, threshold=settings.ledger.match)
    rows = {iss: [f for f in fs if args.all or not f.direction] for iss, fs in series.items()}
    rows = {iss: fs for iss, fs in rows.items() if fs}
    if args.json:
        _emit({
            "indicator": args.indicator,
            "series": [
                {"issuer": iss, "values": [{**f.to_json(), "label": f.label} for f in fs]}
                for iss, fs in rows.items()
            ],
        })
    elif not rows:
        print(f"数字台账里没有“{args.indicator}”这一指标。换个说法试试（如“棚户区改造”“棚改”），或先导入相关材料。")
    else:
        for iss, fs in rows.items():
            print(f"{iss or '（未注明发文单位）'}：")
            for f in fs:
                kind = "（目标）" if f.target else ""
                print(f"  {f.label:<10} {f.indicator} {f.raw}{kind}  《{f.title}》 “{f.passage}”")
    return EXIT_OK if rows else EXIT_REVIEW


def cmd_style(args: argparse.Namespace, settings: Settings) -> int:
    from drafting.errors import EmptyCorpusError
    from drafting.style_cache import load_or_build

    store = _store(settings)
    if store.count() == 0:
        raise EmptyCorpusError()
    profile = load_or_build(store)
    if args.json:
        _emit(profile.to_json())
    else:
        print(profile.summary_zh())
    return EXIT_OK


def cmd_outline(args: argparse.Namespace, settings: Settings) -> int:
    from drafting.outline import propose

    outline = propose(_store(settings), settings, args.type, args.title)
    if args.json:
        _emit(outline.to_json())
    else:
        sys.stdout.write(outline.render())
    return EXIT_OK if outline.nodes else EXIT_REVIEW


def cmd_polish(args: argparse.Namespace, settings: Settings) -> int:
    from drafting.polish import polish

    text = sys.stdin.read() if args.file == "-" else _read_text(Path(args.file))
    result = polish(text, settings, engine=_engine(args, settings))
    if args.json:
        _emit(result.to_json())
    else:
        names = {"rule": "规则", "corpus": "往年表述", "llm": "整段润色"}
        for s in result.suggestions:
            print(f"[{s.id}] {names[s.kind]}（第{s.start + 1}–{s.end}字）：{s.reason}")
            print(f"    原文：{s.original}\n    建议：{s.suggestion}")
            if s.kind == "corpus" and s.source:
                print(f"    出处：{s.source['title']} › {' › '.join(s.source['heading_path'])}")
            for flag in s.flags:
                print(f"    注意：{flag}")
        for note in result.notes:
            print(f"提示：{note}")
        if result.corpus is not None:
            _print_corpus(result.corpus)
    return EXIT_REVIEW if result.needs_review else EXIT_OK


# ---- eval -----------------------------------------------------------------------------------
def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from drafting.errors import EmptyCorpusError
    from drafting.evaluate import load_cases, run_eval

    cases = load_cases(Path(args.cases))
    if args.limit is not None:
        if args.limit < 1:
            raise InputError("--limit 应是正整数，例如 --limit 20。")
        cases = cases[: args.limit]
    store = _store(settings)
    if store.count() == 0:
        raise EmptyCorpusError()
    show = sys.stderr.isatty() and not args.json

    def progress(done: int, total: int) -> None:
        sys.stderr.write(f"\r评测中：{done}/{total}")
        sys.stderr.flush()

    report = run_eval(
        cases, settings, engine_name=args.engine, store=store, progress=progress if show else None)
    if show:
        sys.stderr.write("\n")
    if args.json:
        _emit(report.to_json())
    else:
        print(report.table_zh())
    return EXIT_REVIEW if report.metrics()["failed"] else EXIT_OK


# ---- serve / users --------------------------------------------------------------------------
def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from drafting.ui.app import launch

    update = {k: v for k, v in (("host", args.host), ("port", args.port)) if v is not None}
    launch(settings.model_copy(update=update))
    return EXIT_OK


def cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    import getpass

    from drafting.users import add_user

    path = Path(args.file) if args.file else (settings.users_file or settings.data_path() / "users.json")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"为“{args.name}”设置密码：")
        if getpass.getpass("再输入一次：") != password:
            raise InputError("两次输入的密码不一致。请重新运行命令。")
    user = add_user(path, args.name, password, admin=args.admin)
    print(f"已保存用户“{user.name}”{'（管理员）' if user.admin else ''}到 {path}。")
    if settings.users_file is None or Path(settings.users_file) != path:
        print(f"启动界面前请设置 DRAFTING_USERS_FILE={path}")
    return EXIT_OK


def cmd_store(args: argparse.Namespace, settings: Settings) -> int:
    """``store info``: what the store holds and in which format; ``store migrate``: convert it."""
    if args.action == "migrate":
        from drafting.migrate import migrate_store

        def tick(done: int, total: int) -> None:
            if not args.json:
                sys.stderr.write(f"\r已转换 {done}/{total} 个段落")
                sys.stderr.flush()

        report = migrate_store(settings, dim=args.dim, progress=tick)
        if not args.json and report.from_dim != report.to_dim:
            sys.stderr.write("\n")
        if args.json:
            _emit({"chunks": report.chunks, "from_dim": report.from_dim, "to_dim": report.to_dim,
                   "seconds": round(report.seconds, 1)})
        else:
            print(report.message())
        return EXIT_OK
    from drafting.store import CorpusStore

    store = CorpusStore(settings, keep_dim=True)
    dim = getattr(store.embedder, "dim", None)
    info = {"store": str(settings.chroma_url or settings.store_path()), "chunks": store.count(), "dim": dim,
            "notice": store.format_notice()}
    if args.json:
        _emit(info)
    else:
        print(f"向量库：{info['store']}，{info['chunks']} 个段落，向量维数 {dim or '由向量化服务决定'}。")
        if info["notice"]:
            print(info["notice"])
    return EXIT_OK


# ---- parser ---------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="drafting", description="拟稿助手：检索往年材料，起草、核对公文。")
    sub = p.add_subparsers(dest="command", metavar="命令")
    sub.required = True

    s = sub.add_parser("ingest", help="导入往年材料（文件或文件夹）")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("search", help="在语料库中检索相关段落")
    s.add_argument("query", metavar="QUERY")
    s.add_argument("--k", type=int, default=None, help="返回条数（默认 5）")
    s.add_argument("--doc-type", default=None, help="只看某类文种，如 工作总结")
    s.add_argument("--year-from", type=int, default=None)
    s.add_argument("--year-to", type=int, default=None)
    s.add_argument("--issuer", default=None, help="只看某个发文单位/地区")
    s.add_argument("--exclude", action="append", metavar="DOC_ID", help="排除某篇文档（可重复）")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_search)

    s = sub.add_parser("docs", help="查看或删除已导入的文档")
    s.add_argument("action", nargs="?", choices=["list", "remove"], default="list")
    s.add_argument("doc_id", nargs="?", default=None)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_docs)

    s = sub.add_parser("draft", help="根据标题和要点起草一节")
    s.add_argument("--heading", required=True, help="标题或主题")
    s.add_argument("--bullets", default=None, metavar="FILE|-", help="要点文件，每行一条；- 表示标准输入")
    s.add_argument("--doc-type", default="工作总结")
    s.add_argument("--chars", type=int, default=400, help="目标字数（离线引擎不编造内容，达不到时会说明）")
    s.add_argument("--from", dest="past", default=None, metavar="DOC_ID[:标题]",
                   help="套写：沿用这篇往年材料中一节的结构和措辞，数字换成要点里的数字"
                        "（文档编号见 drafting docs list）")
    s.add_argument("--engine", choices=["offline", "openai", "local"], default=None)
    s.add_argument("--year", type=int, default=None, help="所写的年度，用于与往年数字比对（默认今年）")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_draft)

    s = sub.add_parser("check", help="核对稿件中的数字和规范提法")
    s.add_argument("file", metavar="FILE|-")
    s.add_argument("--bullets", default=None, metavar="FILE", help="要点文件：稿件中的数字只能来自这里")
    s.add_argument("--year", type=int, default=None, help="稿件所写的年度，用于与往年数字比对（默认今年）")
    s.add_argument("--issuer", default=None,
                   help="与哪个发文单位已发布的数字比对（默认语料库中数字最多的单位）")
    s.add_argument("--corpus", action="store_true",
                   help="同时与语料库中的往年数字和政策原文比对（给了 --year 或 --issuer 也会比对）")
    s.add_argument("--no-corpus", action="store_true", help="不与语料库比对（默认即不比对）")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("ledger", help="数字台账：某个指标历年的数值和出处")
    s.add_argument("indicator", metavar="INDICATOR", help="指标，如 棚户区改造、生产总值")
    s.add_argument("--issuer", default=None, help="只看某个发文单位/地区")
    s.add_argument("--all", action="store_true", help="也列出增幅、比重等变化率")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_ledger)

    s = sub.add_parser("style", help="查看从语料库归纳的本局文风")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_style)

    from drafting.outline import DOC_TYPES

    s = sub.add_parser("outline", help="按往年同类材料为新文稿提出提纲（一级、二级标题及其句式）")
    s.add_argument("--type", required=True, help="文种：" + "、".join(DOC_TYPES))
    s.add_argument("--title", required=True, help="新文稿的标题")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_outline)

    s = sub.add_parser("polish", help="润色自己写的句子或段落：规范提法、往年表述、整段改写")
    s.add_argument("file", metavar="FILE|-")
    s.add_argument("--engine", choices=["offline", "openai", "local"], default=None)
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_polish)

    s = sub.add_parser("eval", help="用评测用例（JSONL）评测起草效果：数字、ROUGE-L、引用、耗时")
    s.add_argument("cases", metavar="CASES.jsonl")
    s.add_argument("--engine", choices=["offline", "openai", "local"], default=None)
    s.add_argument("--limit", type=int, default=None, metavar="N", help="只评测前 N 例")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("serve", help="启动网页界面（默认只在本机 127.0.0.1 上）")
    s.add_argument("--host", default=None, help="监听地址（默认 127.0.0.1；对外提供服务须先建立账号）")
    s.add_argument("--port", type=int, default=None, help="端口（默认 7860）")
    s.set_defaults(func=cmd_serve)

    s = sub.add_parser("store", help="查看向量库格式，或把旧版本建立的向量库迁移为新格式")
    s.add_argument("action", choices=["info", "migrate"])
    s.add_argument("--dim", type=int, default=None,
                   help="migrate：目标维数（默认 DRAFTING_EMBED_DIM，768；大型语料库可用 256）")
    s.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
    s.set_defaults(func=cmd_store)

    s = sub.add_parser("users", help="管理网页界面的账号")
    s.add_argument("action", choices=["add"])
    s.add_argument("name", metavar="NAME")
    s.add_argument("--admin", action="store_true", help="管理员：可以修改共享语料库")
    s.add_argument("--file", default=None,
                   help="用户文件（默认 DRAFTING_USERS_FILE，或数据目录下 users.json）")
    s.add_argument("--password-stdin", action="store_true", help="从标准输入读密码（脚本用）")
    s.set_defaults(func=cmd_users)
    return p




def main(argv: Sequence[str] | None = None) -> int:
    offline_environment()
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse already printed usage
        return EXIT_ERROR if exc.code else EXIT_OK
    try:
        settings = get_settings()
        return int(args.func(args, settings))
    except DraftingError as exc:
        if os.environ.get("DRAFTING_RAISE_ERRORS"):
            raise
        sys.stderr.write(f"错误：{exc.help_message}\n")
        if exc.detail:
            sys.stderr.write(f"详情：{exc.detail}\n")
        return EXIT_ERROR
    except KeyboardInterrupt:
        sys.stderr.write("已中断。已完成的部分已保存；重新运行同一命令即可继续。\n")
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
