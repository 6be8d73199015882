"""Errors that carry their own advice.

Every error a writer can see derives from :class:`DraftingError` and has a Chinese
``help_message`` that names the problem and says what to do next.  The CLI prints it and exits
with code 2; the UI turns it into ``gr.Error``.  Anything else is a bug and propagates.

    DraftingError
    ├── ConfigError            – a setting is missing or wrong
    ├── LoaderError            – one corpus file cannot be read (reported per file, never fatal)
    │   ├── EmptyFileError
    │   ├── FileTooLargeError
    │   ├── UnsupportedFormatError
    │   └── CorruptFileError   – binary junk, broken docx/pdf, unknown encoding
    ├── StoreError             – Chroma or the keyword index cannot be opened or written
    │   └── StoreUnavailableError – the Chroma server does not answer
    ├── EmptyCorpusError       – nothing has been ingested yet
    ├── DocumentNotFoundError  – `docs remove` with an unknown id
    ├── EmbeddingError         – the embedding endpoint failed
    ├── InputError             – the writer's input is empty or unusable
    ├── EngineError            – the drafting model failed; ``partial`` keeps any text already streamed
    │   ├── EngineUnavailableError – endpoint down / GGUF missing
    │   └── EngineTimeoutError     – the endpoint stopped sending
    ├── HistoryError           – the draft history (SQLite under DRAFTING_DATA_DIR) cannot be
opened or written
    └── ExportError            – a .docx / .md export cannot be written
        └── ExportNeedsConfirmation – a section still needs review; ``problems`` lists them
"""

from __future__ import annotations


class DraftingError(Exception):
    """Base class; ``help_message`` is what a writer reads."""

    help_message = "拟稿助手出错。"

    def __init__(self, help_message: str | None = None, *, detail: str | None = None) -> None:
        if help_message is not None:
            self.help_message = help_message
        self.detail = detail
        super().__init__(self.help_message if detail is None else f"{self.help_message}（{detail}）")


class ConfigError(DraftingError):
    help_message = "配置有误，请检查 DRAFTING_* 环境变量。"


class LoaderError(DraftingError):
    help_message = "文件无法读取。"


class EmptyFileError(LoaderError):
    help_message = "文件是空的，没有可入库的文字。请确认选对了文件。"


class FileTooLargeError(LoaderError):
    help_message = "文件超过大小上限，未入库。请拆分后再上传，或调大 DRAFTING_MAX_FILE_MB。"


class UnsupportedFormatError(LoaderError):
    help_message = "不支持这种文件格式。请转换为 .docx、.pdf、.txt 或 .md 后再入库。"


class CorruptFileError(LoaderError):
    help_message = "文件已损坏或不是有效的文本文档。请用 Word/WPS 打开确认后另存为 .docx 再试。"


class StoreError(DraftingError):
    help_message = "向量库读写失败。请检查 DRAFTING_STORE 目录是否可写、磁盘是否已满。"


class StoreUnavailableError(StoreError):
    help_message = (
        "连接不上 Chroma 服务。请确认 DRAFTING_CHROMA_URL 所指的 `chroma run` 已启动，"
        "或取消该变量改用本地库。"
    )


class EmptyCorpusError(DraftingError):
    help_message = "语料库还是空的。请先运行 `drafting ingest corpus/` 导入往年材料。"


class DocumentNotFoundError(DraftingError):
    help_message = "找不到这个文档编号。请先运行 `drafting docs list` 查看现有文档。"


class EmbeddingError(DraftingError):
    help_message = (
        "向量化服务调用失败。请检查 DRAFTING_EMBED_BASE_URL 与 DRAFTING_EMBED_MODEL，"
        "或取消它们改用内置向量化。"
    )


class InputError(DraftingError):
    help_message = "输入内容有误。"


class EngineError(DraftingError):
    help_message = "起草模型出错。已生成的部分已保留，可稍后重试，或改用 offline 引擎。"

    def __init__(self, help_message: str | None = None, *, detail: str | None = None,
                 partial: str = "") -> None:
        super().__init__(help_message, detail=detail)
        self.partial = partial


class EngineUnavailableError(EngineError):
    help_message = (
        "连接不上起草模型。请检查 DRAFTING_LLM_BASE_URL 所指的模型服务是否已启动、地址和端口是否正确；"
        "也可以先改用 offline 引擎（界面上选“offline 离线组稿”，命令行加 --engine offline）。"
    )


class EngineTimeoutError(EngineError):
    help_message = (
        "模型服务长时间没有响应，已停止等待。已生成的部分已保留；请稍后重试，或调大 "
        "DRAFTING_LLM_READ_TIMEOUT。"
    )


class HistoryError(DraftingError):
    help_message = (
        "草稿历史无法保存或读取。请检查 DRAFTING_DATA_DIR 所指的数据目录是否存在、可写，磁盘是否已满；"
        "问题解决前，请先把当前正文复制保存到别处，以免丢失。"
    )


class ExportError(DraftingError):
    help_message = (
        "导出文件无法写入。请检查保存位置是否存在、可写，磁盘是否已满，以及同名文件是否正在 Word/WPS "
        "中打开。"
    )


class ExportNeedsConfirmation(ExportError):
    """Raised by an export (before anything is written) while a section still needs review."""

    help_message = "稿件还有需要复核的问题，尚未导出。请先处理这些问题，或确认后仍然导出。"

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        listed = "；".join(self.problems[:10]) + ("……" if len(self.problems) > 10 else "")
        super().__init__(
            f"稿件还有{len(self.problems)}处需要复核的问题，尚未导出：{listed}。"
            "请回到起草页改正或确认这些数字和提法；如果你已核实无误，可以选择“仍然导出”。"
        )
