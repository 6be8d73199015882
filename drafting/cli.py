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
            raise InputError("请给出要删除的文档编号：drafting docs remove DOC_ID（编号见 drafting docs list）。")
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
    if not docs:
        print("语料库还是空的。请先运行 drafting ingest corpus/ 导入往年材料。")
    for d in docs:
        flag = "" if d.complete else "（不完整，请重新导入）"
        print(f"{d.doc_id}  {d.chunks:>4} 段  {d.figures:>4} 个数字  {d.year or '----'}  {d.title or Path(d.source).name}{flag}")
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
