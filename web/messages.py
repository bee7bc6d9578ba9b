"""Refusals in Chinese as well as English: the pages show both (the JSON API keeps its English ``message``
and its ``error`` code, which clients match on)."""

from __future__ import annotations

STATUS_TITLES = {
    400: ("请求有误", "Bad request"), 401: ("未登录或令牌无效", "Not authenticated"), 403: ("无权访问", "Forbidden"),
    404: ("未找到", "Not found"), 405: ("不支持的请求方法", "Method not allowed"), 409: ("状态冲突", "Conflict"),
    413: ("文件过大", "Too large"), 415: ("不支持的文件类型", "Unsupported type"), 422: ("无法处理的请求", "Unprocessable"),
    500: ("服务器内部错误", "Server error"), 503: ("服务繁忙", "Service unavailable"),
}

ZH = {
    "unauthenticated": "请先用令牌登录。",
    "bad_authorization": "Authorization 请求头格式不正确。",
    "unknown_token": "令牌不存在：请检查是否完整复制，或向管理员申请新令牌。",
    "expired_token": "令牌已过期：请向管理员申请新令牌。",
    "revoked_token": "令牌已被吊销：请向管理员申请新令牌。",
    "bad_session": "会话无效，请重新登录。",
    "session_ended": "会话已结束（已退出登录），请重新登录。",
    "session_expired": "会话已过期，请重新登录。",
    "forbidden": "您的令牌无权进行此操作。",
    "wrong_guarantor": "报送包清单中的机构与您的令牌所属机构不一致。",
    "csrf": "表单已失效（缺少或错误的 CSRF 令牌），请返回后重新提交。",
    "not_found": "未找到该页面或报送（或不属于您的机构）。",
    "method_not_allowed": "不支持该请求方法。",
    "not_awaiting_confirmation": "该报送当前不需要确认警告。",
    "too_large": "上传的文件超过大小上限。",
    "zip_bomb": "ZIP 解压后过大（压缩比异常），已拒收。",
    "zip_too_large": "ZIP 解压后超过大小上限。",
    "unsupported_file_type": "不支持的文件类型：请上传 ZIP，或 CSV、XLSX、Parquet 数据文件及 manifest.json。",
    "unsupported_media_type": "不支持的内容类型：请上传 ZIP 或表单。",
    "corrupt_zip": "ZIP 文件已损坏。",
    "not_a_zip": "文件不是 ZIP。",
    "duplicate_file": "同名文件上传了两次。",
    "invalid_confirmation": "确认内容不完整：请选择警告并填写至少 10 个字符的理由。",
    "invalid_period": "报告期格式应为 YYYY-MM。",
    "no_manifest": "缺少 manifest.json。",
    "no_package": "请选择要上传的报送包。",
    "no_period": "清单中缺少报告期，请填写报告期。",
    "too_many_files": "文件数量过多。",
    "unsafe_file_name": "文件名不安全（含路径或特殊字符）。",
    "zip_duplicate_member": "ZIP 中有重复的文件。",
    "zip_encrypted": "ZIP 已加密，无法读取。",
    "zip_symlink": "ZIP 中含有符号链接。",
    "zip_too_many_members": "ZIP 中文件过多。",
    "zip_unsafe_path": "ZIP 中的路径不安全（如 ../）。",
    "invalid": "请求参数无效。",
    "http_error": "请求无法完成。",
}


def zh(code: str, status: int | None = None) -> str:
    if code in ZH:
        return ZH[code]
    if status in STATUS_TITLES:
        return STATUS_TITLES[status][0] + "。"
    return "请求无法完成。"


def bilingual(code: str, message: str, status: int | None = None) -> str:
    """One line for a form's error: ``中文 / English``."""
    return f"{zh(code, status)} / {message}"


def titles(status: int) -> tuple[str, str]:
    return STATUS_TITLES.get(status, ("错误", "Error"))
