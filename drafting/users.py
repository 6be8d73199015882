"""Optional accounts for the web UI: a JSON users file with bcrypt password hashes.

    {"users": [{"name": "张三", "password_hash": "$2b$12$…", "admin": true}]}

Admins may change the shared corpus; everyone drafts, and each user's history is their own.
Without a users file the UI runs for one local user (``LOCAL_USER``) and only on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import bcrypt

from drafting.errors import ConfigError, InputError

LOCAL_USER = "本机用户"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MIN_PASSWORD = 8


@dataclass(frozen=True)
class User:
    name: str
    password_hash: str
    admin: bool = False


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InputError(f"密码太短：至少{MIN_PASSWORD}位。请换一个更长的密码。")
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("ascii")


def load_users(path: Path) -> dict[str, User]:
    """Users by name; a missing, unreadable or malformed file is a :class:`ConfigError`."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(
            f"找不到用户文件 {path}。请先运行 drafting users add 用户名 --admin 建立账号，"
            "或检查 DRAFTING_USERS_FILE 的路径。",
        ) from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"用户文件 {path} 无法读取或不是有效的 JSON。请检查文件内容。", detail=str(exc)) from exc
    rows = data.get("users") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ConfigError(f"用户文件 {path} 缺少 \"users\" 列表。格式见 docs/architecture.md。")
    users: dict[str, User] = {}
    for n, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not row.get("name") or not row.get("password_hash"):
            raise ConfigError(f"用户文件 {path} 第{n}个用户缺少 name 或 password_hash。请补全后再启动。")
        users[str(row["name"])] = User(str(row["name"]), str(row["password_hash"]), bool(row.get("admin", False)))
    return users


def verify(users: dict[str, User], name: str, password: str) -> bool:
    user = users.get(name)
    if user is None or not password:
        return False
    try:
        return bcrypt.checkpw(password.encode("utf-8"), user.password_hash.encode("ascii"))
    except ValueError:  # a malformed hash never matches
        return False


def add_user(path: Path, name: str, password: str, *, admin: bool = False) -> User:
    """Add or replace one user in the file (created if missing); written atomically."""
    name = name.strip()
    if not name:
        raise InputError("用户名是空的。请给出用户名，例如 drafting users add 张三 --admin。")
    users = load_users(path) if Path(path).exists() else {}
    users[name] = User(name, hash_password(password), admin)
    payload = {"users": [{"name": u.name, "password_hash": u.password_hash, "admin": u.admin} for u in users.values()]}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return users[name]


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def require_accounts(host: str, users_file: Path | None) -> None:
    """Refuse to serve beyond loopback without accounts."""
    if not is_loopback(host) and users_file is None:
        raise ConfigError(
            f"界面要在 {host} 上对外提供服务，但没有设置用户文件，任何人都能访问。"
            "请先运行 drafting users add 用户名 --admin 建立账号，并设置 DRAFTING_USERS_FILE 指向该文件；"
            "或改用 127.0.0.1 只在本机使用。"
        )
