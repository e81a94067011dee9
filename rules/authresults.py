"""What the receiving server's ``Authentication-Results`` (RFC 8601) says about the From domain.

Only the **topmost** header counts: it is the one our receiving MX prepended. Any header further down
was written before the mail reached us, possibly by the sender (RFC 8601 section 5: a receiver must
ignore results it cannot tell came from its own ADMD). And only when its authserv-id is one of ours
(``[coordinator] authserv_ids``: names or glob patterns, because Coremail stamps its short MX host name
such as ``mx19``, which changes from mail to mail; see docs/MAIL-FACTS.md).

A pass counts when it is about the From domain (relaxed alignment, RFC 7489 3.1): ``dmarc=pass``,
``dkim=pass`` whose ``header.d`` / ``header.i`` domain is aligned, or ``spf=pass`` whose
``smtp.mailfrom`` / ``smtp.mail`` (Coremail's spelling) domain is aligned. A fail counts the same way,
and only when nothing aligned passed (a forwarded mail fails SPF but keeps its DKIM signature).
Anything else, including no header, an unparsable one or someone else's, is ``NONE``: never verified.

Parsing is the ``authres`` library's (dkimpy's companion, RFC 8601 grammar with comments and quoting).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import authres
from authres.core import AuthResError


class Auth(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NONE = "none"


@dataclass(frozen=True)
class AuthVerdict:
    result: Auth
    detail: str  # what decided it, for people: "dkim=pass (example.com)", "没有 Authentication-Results"

    @property
    def passed(self) -> bool:
        return self.result is Auth.PASS

    @property
    def failed(self) -> bool:
        return self.result is Auth.FAIL


# (method, property type, property name) whose value names the domain a result is about.
_DOMAIN_PROPERTIES = {
    "dmarc": (("header", "from"),),
    "dkim": (("header", "d"), ("header", "i")),
    "spf": (("smtp", "mailfrom"), ("smtp", "mail")),
}


def authserv_matches(authserv_id: str, patterns: Iterable[str]) -> bool:
    """Whether ``authserv_id`` is one of ours: a name or a glob pattern, compared case-insensitively.

    >>> authserv_matches("mx19", ["mx*"])
    True
    >>> authserv_matches("evil.example", ["mx*", "*.163.com"])
    False
    """
    name = authserv_id.strip().lower()
    return bool(name) and any(fnmatch.fnmatchcase(name, p.strip().lower()) for p in patterns if p.strip())


def domain_of(value: str) -> str:
    """``"@Example.COM"``, ``"a@example.com"``, ``"example.com."`` -> ``"example.com"``."""
    return value.strip().strip("\"'<>").rpartition("@")[2].strip().lower().rstrip(".")


def aligned(domain: str, from_domain: str) -> bool:
    """Relaxed alignment without the public suffix list: equal, or one a subdomain of the other.

    Nobody can sign as or send from a public suffix itself (``com.cn``), so the parent case cannot be
    abused; two sibling subdomains are (conservatively) not aligned.
    """
    if not domain or not from_domain:
        return False
    return domain == from_domain or from_domain.endswith("." + domain) or domain.endswith("." + from_domain)


def authenticate(topmost: str | None, from_addr: str, authserv_ids: Iterable[str]) -> AuthVerdict:
    """The verdict of the topmost ``Authentication-Results`` value about ``from_addr``'s domain.

    >>> authenticate("mx19; spf=pass smtp.mail=a@example.com", "a@example.com", ["mx*"]).result
    <Auth.PASS: 'pass'>
    >>> authenticate("evil.example; dkim=pass header.d=example.com", "a@example.com", ["mx*"]).result
    <Auth.NONE: 'none'>
    """
    if not topmost or not topmost.strip():
        return AuthVerdict(Auth.NONE, "邮件没有 Authentication-Results（收件服务器未给出验证结果）")
    try:
        header = authres.AuthenticationResultsHeader.parse_value(" ".join(topmost.split()))
    except AuthResError:
        return AuthVerdict(Auth.NONE, "最上方的 Authentication-Results 无法解析")
    authserv_id = str(header.authserv_id or "")
    if not authserv_matches(authserv_id, authserv_ids):
        return AuthVerdict(
            Auth.NONE, f"最上方的 Authentication-Results 来自 {authserv_id or '（空）'}，不是配置的收件服务器"
        )
    from_domain = domain_of(from_addr) if "@" in from_addr else ""
    passes: list[str] = []
    fails: list[str] = []
    for result in header.results:
        method = str(result.method).lower()
        if method not in _DOMAIN_PROPERTIES:
            continue
        wanted = _DOMAIN_PROPERTIES[method]
        domains = [
            domain_of(str(p.value))
            for p in result.properties
            if (str(p.type).lower(), str(p.name).lower()) in wanted
        ]
        # DMARC is always about the From domain; a result naming no domain is taken to be about it.
        about_from = any(aligned(d, from_domain) for d in domains) or not domains
        outcome = str(result.result).lower()
        shown = f"{method}={outcome} ({next((d for d in domains if d), from_domain or '?')})"
        if outcome == "pass" and about_from and (domains or method == "dmarc"):
            passes.append(shown)
        elif outcome == "fail" and about_from:
            fails.append(shown)
    if passes:
        return AuthVerdict(Auth.PASS, passes[0])
    if fails:
        return AuthVerdict(Auth.FAIL, fails[0])
    return AuthVerdict(Auth.NONE, f"收件服务器（{authserv_id}）未验证发件域 {from_domain or '（无）'}")
