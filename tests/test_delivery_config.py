"""The delivery configuration and the masking of channel secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.channels import open_channels
from monitor.cli import cli
from monitor.config import (
    DEFAULT_SUBSCRIPTION,
    ConfigError,
    Subscription,
    load_config,
    province_code,
)
from monitor.redact import Redactor


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("北京", "11"),
        ("北京市", "11"),
        ("Beijing", "11"),
        ("shanghai", "31"),
        ("44", "44"),
        ("440305", "44"),
        ("广东省", "44"),
        ("Shaanxi", "61"),
        ("Inner Mongolia", "15"),
        ("国资委", "00"),
    ],
)
def test_provinces_by_code_chinese_english_or_pinyin(given: str, code: str) -> None:
    assert province_code(given) == code


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_configuration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_TOKEN", "tok-123456")
    config = write(
        tmp_path / "c.toml",
        '[delivery]\nmax_attempts = 3\nretry_after = 5\n\n[feeds]\ndir = "out"\n\n'
        "[subscriptions.desk]\n"
        'urls = ["json://127.0.0.1:9/${HOOK_TOKEN}"]\n'
        'series = ["algorithm"]\nkinds = ["new_registrant"]\n'
        'provinces = ["北京", "Guangdong"]\nsectors = ["healthcare"]\n'
        'watchlists = ["big-tech"]\n',
    )

    loaded = load_config(tmp_path, config)

    assert loaded.max_attempts == 3
    assert loaded.retry_after == 5
    assert loaded.feeds_dir == tmp_path / "out"
    assert loaded.subscriptions == (
        Subscription(
            name="desk",
            urls=("json://127.0.0.1:9/tok-123456",),
            series=("algorithm",),
            kinds=("new_registrant",),
            sectors=("healthcare",),
            provinces=("11", "44"),
            watchlists=("big-tech",),
        ),
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[subscriptions.a]\nseries = ["algorithms"]\n', "unknown series 'algorithms'"),
        ('[subscriptions.a]\nkinds = ["new"]\n', "unknown event kind 'new'"),
        ('[subscriptions.a]\nprovinces = ["Atlantis"]\n', "unknown province"),
        ('[subscriptions.a]\nurl = "json://x"\n', "unknown settings url"),
        ('[subscriptions."a b"]\n', "letters, digits"),
        ('[subscriptions.a]\nurls = ["json://${NO_SUCH_VAR}/"]\n', "NO_SUCH_VAR"),
        ("[delivery]\nmax_attempts = 0\n", "at least 1"),
        ("[subscriptions.a\n", "not valid TOML"),
    ],
)
def test_bad_configurations_are_refused_with_the_reason(
    tmp_path: Path, text: str, message: str
) -> None:
    config = write(tmp_path / "c.toml", text)
    with pytest.raises(ConfigError, match=message):
        load_config(tmp_path, config)


def test_a_named_file_must_exist_the_default_may_not(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path, tmp_path / "missing.toml")
    assert load_config(tmp_path).subscriptions == ()


def test_environment_variables_make_a_subscription(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "CACWATCH_NOTIFY_URLS", "json://127.0.0.1:9/a json://127.0.0.1:9/b"
    )
    monkeypatch.setenv("CACWATCH_NOTIFY_SERIES", "algorithm, cancellation")

    (subscription,) = load_config(tmp_path).subscriptions

    assert subscription.name == DEFAULT_SUBSCRIPTION
    assert subscription.urls == ("json://127.0.0.1:9/a", "json://127.0.0.1:9/b")
    assert subscription.series == ("algorithm", "cancellation")


def test_secrets_of_urls_are_masked(tmp_path: Path) -> None:
    redactor = Redactor()
    subscription = Subscription(
        "s",
        (
            "json://cacuser:Pa55-w0rd@127.0.0.1:9/hook",
            "mailto://bot:s3cr%2Fet@127.0.0.1:25?to=desk@example.org&from=bot@example.org",
        ),
    )

    channels = open_channels(subscription, redactor)

    text = "login Pa55-w0rd failed; s3cr/et and s3cr%2Fet refused at 127.0.0.1"
    assert redactor.redact(text) == "login *** failed; *** and *** refused at 127.0.0.1"
    for channel in channels:
        assert "Pa55-w0rd" not in channel.shown
        assert "s3cr" not in channel.shown
        assert "127.0.0.1" in channel.shown


def test_an_unusable_url_is_refused_without_showing_it() -> None:
    subscription = Subscription("s", ("nosuchservice://user:topsecret@host/",))
    with pytest.raises(ConfigError) as caught:
        open_channels(subscription, Redactor())
    assert "topsecret" not in str(caught.value)
    assert "URL #1" in str(caught.value)


@pytest.mark.parametrize("command", [["run"], ["schedule", "--cron", "0 9 * * *"]])
def test_run_and_schedule_refuse_a_broken_configuration_first(
    tmp_path: Path, command: list[str]
) -> None:
    config = write(
        tmp_path / "c.toml",
        '[subscriptions.a]\nurls = ["json://u:hushhush@127.0.0.1:9/"]\n'
        'series = ["algorithms"]\n',
    )
    state = tmp_path / "state"

    result = CliRunner().invoke(
        cli, [*command, "--state", str(state), "--config", str(config)]
    )

    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"Error: {config}: subscription 'a': unknown series 'algorithms' "
        "(one of algorithm, deep_synthesis, generative_ai, cancellation)"
    ]
    assert not state.exists()
