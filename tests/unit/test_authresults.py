"""rules.authresults: only the topmost Authentication-Results of our own MX, aligned with the From domain."""

from __future__ import annotations

import pytest

from rules.authresults import Auth, aligned, authenticate, authserv_matches, domain_of

OURS = ("mx*",)


@pytest.mark.parametrize(
    ("results", "sender", "expected", "shown"),
    [
        # Coremail's own spelling (MAIL-FACTS: a 126.com sample): smtp.mail=, header.i=@domain
        (
            "mx19; spf=pass smtp.mail=zhang@jz.gov.cn; dkim=pass header.i=@jz.gov.cn",
            "zhang@jz.gov.cn",
            Auth.PASS,
            "spf=pass (jz.gov.cn)",
        ),
        ("mx19; dkim=pass header.i=@mail.jz.gov.cn", "zhang@jz.gov.cn", Auth.PASS, "dkim=pass (mail.jz.gov.cn)"),
        ("MX7; DKIM=PASS Header.I=@JZ.gov.cn", "zhang@jz.gov.cn", Auth.PASS, "dkim=pass (jz.gov.cn)"),
        (
            "mx.163.com; dmarc=pass (p=none) header.from=jz.gov.cn",
            "zhang@jz.gov.cn",
            Auth.PASS,
            "dmarc=pass (jz.gov.cn)",
        ),
        ("mx19; dmarc=pass", "zhang@jz.gov.cn", Auth.PASS, "dmarc=pass (jz.gov.cn)"),
        # a pass for someone else's domain is no pass for ours (a relay's signature)
        (
            "mx19; spf=pass smtp.mail=bounce@amazonses.com; dkim=pass header.i=@amazonses.com",
            "zhang@jz.gov.cn",
            Auth.NONE,
            None,
        ),
        ("mx19; dkim=pass header.d=evil-jz.gov.cn", "zhang@jz.gov.cn", Auth.NONE, None),
        ("mx19; dkim=pass", "zhang@jz.gov.cn", Auth.NONE, None),  # names no domain: proves nothing
        # failures
        (
            "mx19; dkim=fail header.d=jz.gov.cn; spf=softfail smtp.mailfrom=jz.gov.cn",
            "zhang@jz.gov.cn",
            Auth.FAIL,
            "dkim=fail (jz.gov.cn)",
        ),
        ("mx19; spf=fail smtp.mailfrom=mail.jz.gov.cn", "zhang@jz.gov.cn", Auth.FAIL, "spf=fail (mail.jz.gov.cn)"),
        ("mx19; dmarc=fail header.from=jz.gov.cn", "zhang@jz.gov.cn", Auth.FAIL, "dmarc=fail (jz.gov.cn)"),
        ("mx19; spf=fail", "zhang@jz.gov.cn", Auth.FAIL, "spf=fail (jz.gov.cn)"),
        # a forwarded mail fails SPF but keeps its DKIM signature: DMARC passes, so do we
        (
            "mx19; spf=fail smtp.mailfrom=jz.gov.cn; dkim=pass header.d=jz.gov.cn",
            "zhang@jz.gov.cn",
            Auth.PASS,
            "dkim=pass (jz.gov.cn)",
        ),
        (
            "mx19; dkim=fail header.d=other.org; dkim=pass header.d=jz.gov.cn",
            "zhang@jz.gov.cn",
            Auth.PASS,
            "dkim=pass (jz.gov.cn)",
        ),
        ("mx19; dkim=fail header.d=other.org", "zhang@jz.gov.cn", Auth.NONE, None),
        # neither
        ("mx19; spf=softfail smtp.mailfrom=jz.gov.cn; dkim=none", "zhang@jz.gov.cn", Auth.NONE, None),
        (
            "mx19; spf=neutral smtp.mail=jz.gov.cn; dkim=temperror header.i=@jz.gov.cn",
            "zhang@jz.gov.cn",
            Auth.NONE,
            None,
        ),
        ("mx19; none", "zhang@jz.gov.cn", Auth.NONE, None),
        ("mx19; iprev=pass policy.iprev=192.0.2.7", "zhang@jz.gov.cn", Auth.NONE, None),
        # someone else's server, or one written by the sender: never read
        ("evil.example; dkim=pass header.d=jz.gov.cn; dmarc=pass", "zhang@jz.gov.cn", Auth.NONE, None),
        # unreadable or absent
        ("mx19; dkim=pass header.i=@jz.gov.cn; broken", "zhang@jz.gov.cn", Auth.NONE, None),
        ("", "zhang@jz.gov.cn", Auth.NONE, None),
        (None, "zhang@jz.gov.cn", Auth.NONE, None),
        ("mx19; dmarc=pass header.from=jz.gov.cn", "", Auth.NONE, None),  # no From address: nothing aligns
    ],
)
def test_verdicts(results: str | None, sender: str, expected: Auth, shown: str | None) -> None:
    verdict = authenticate(results, sender, OURS)
    assert verdict.result is expected
    if shown is not None:
        assert verdict.detail == shown
    else:
        assert verdict.detail  # always says why, for the coordinator


def test_the_glob_decides_whose_results_count() -> None:
    # "mx*" also matches a name like mx.evil...: only the *topmost* header is ever read, and our MX
    # writes that one (the caller passes nothing else). This test pins what the glob alone does.
    assert authenticate("mx.evil.example; dmarc=pass", "a@jz.gov.cn", ["mx?", "mx??"]).result is Auth.NONE
    assert authenticate("mx19; dmarc=pass", "a@jz.gov.cn", ["mx?", "mx??"]).result is Auth.PASS
    assert authenticate("mx19; dmarc=pass", "a@jz.gov.cn", []).result is Auth.NONE  # none configured


def test_folded_header_is_read() -> None:
    folded = "mx19;\r\n\tspf=pass smtp.mail=zhang@jz.gov.cn;\r\n\tdkim=pass header.i=@jz.gov.cn"
    assert authenticate(folded, "zhang@jz.gov.cn", OURS).passed


@pytest.mark.parametrize(
    ("authserv_id", "patterns", "ok"),
    [
        ("mx19", ["mx*"], True),
        ("MX19", ["mx*"], True),
        ("mx19", ["MX*"], True),
        ("mx.163.com", ["*.163.com"], True),
        ("evil.163.com.example", ["*.163.com"], False),
        ("gzsmtp5", ["mx*"], False),
        ("", ["mx*"], False),
        ("mx19", ["", " "], False),
        ("mx19", [], False),
    ],
)
def test_authserv_matches(authserv_id: str, patterns: list[str], ok: bool) -> None:
    assert authserv_matches(authserv_id, patterns) is ok


@pytest.mark.parametrize(
    ("value", "domain"),
    [
        ("@Example.COM", "example.com"),
        ("a@example.com", "example.com"),
        ("example.com.", "example.com"),
        ('"x"@a.cn', "a.cn"),
    ],
)
def test_domain_of(value: str, domain: str) -> None:
    assert domain_of(value) == domain


@pytest.mark.parametrize(
    ("domain", "from_domain", "ok"),
    [
        ("jz.gov.cn", "jz.gov.cn", True),
        ("mail.jz.gov.cn", "jz.gov.cn", True),
        ("jz.gov.cn", "mail.jz.gov.cn", True),
        ("xjz.gov.cn", "jz.gov.cn", False),
        ("a.jz.gov.cn", "b.jz.gov.cn", False),
        ("", "jz.gov.cn", False),
        ("jz.gov.cn", "", False),
    ],
)
def test_alignment(domain: str, from_domain: str, ok: bool) -> None:
    assert aligned(domain, from_domain) is ok
