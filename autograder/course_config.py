"""The course's settings file (``--course-config course.toml``): deadlines and late policies.

```toml
[defaults]
late_policy = "linear:10%/d,max:50%"

[assignments.05_gradient_descent]
deadline = "2026-12-15T23:59+03:00"
late_policy = "zero-after:72h"      # overrides the default for this assignment
```

``--deadline`` and ``--late-policy`` on the command line override the file.
"""

import tomllib
from pathlib import Path

KEYS = {"deadline", "late_policy"}


class ConfigError(ValueError):
    pass


def settings(path, assignment):
    """{"deadline": ..., "late_policy": ...} for ``assignment``, only the keys the file sets."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"не удалось прочитать файл настроек курса {path}: {error.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(f"файл настроек курса {path} не читается как TOML: {error}") from None
    found = {}
    for section in (data.get("defaults", {}), data.get("assignments", {}).get(assignment, {})):
        if not isinstance(section, dict):
            raise ConfigError(f"в {path} разделы [defaults] и [assignments.<задание>] должны быть таблицами")
        unknown = set(section) - KEYS
        if unknown:
            raise ConfigError(f"в {path} неизвестные ключи: {', '.join(sorted(unknown))} "
                              "(допустимы: deadline, late_policy)")
        found.update({key: str(value) for key, value in section.items()})
    return found
