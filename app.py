"""Start the writers' web app: ``python app.py`` (same as ``drafting serve``).

Binds to 127.0.0.1 unless DRAFTING_HOST says otherwise; beyond loopback it needs a users file
(DRAFTING_USERS_FILE).  Everything else lives in :mod:`drafting.ui`.
"""

from __future__ import annotations

import sys

from drafting.errors import DraftingError
from drafting.settings import get_settings, offline_environment


def main() -> int:
    offline_environment()
    from drafting.engines import close_local_models
    from drafting.ui.app import launch

    try:
        launch(get_settings())
    except DraftingError as exc:
        sys.stderr.write(f"错误：{exc.help_message}\n")
        return 2
    finally:
        close_local_models()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
