"""Load ``config.toml`` once into frozen dataclasses; every error names the file and the key.

Secrets (the 163 授权码) never come from the TOML itself: ``password_env`` names an environment
variable, or ``password_file`` a file readable only by the service user. They are read when a
connection needs them (``Secret.reveal()``), so commands that need no mailbox run without them.
"""

from __future__ import annotations

from bot.config.model import (
    CampaignConfig,
    Config,
    ConfigError,
    CoordinatorConfig,
    MailboxConfig,
    ReceiptsConfig,
    RemindersConfig,
    Secret,
    SectionConfig,
    SmtpConfig,
    StorageConfig,
)
from bot.config.reader import default_config_path, load_config, parse_config

__all__ = [
    "CampaignConfig",
    "Config",
    "ConfigError",
    "CoordinatorConfig",
    "MailboxConfig",
    "ReceiptsConfig",
    "RemindersConfig",
    "Secret",
    "SectionConfig",
    "SmtpConfig",
    "StorageConfig",
    "default_config_path",
    "load_config",
    "parse_config",
]
