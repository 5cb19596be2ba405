"""CSV that keeps every untouched cell as it was written, byte for byte.

An LMS reads back the file it exported; rewriting it through the csv module would change
quoting and line ends of cells we never meant to touch. Here each cell keeps its raw text,
and only the cells we set are written anew (quoted when they need it).
"""

from dataclasses import dataclass, field


@dataclass
class Record:
    raw: list  # each cell as written, quotes included
    values: list  # each cell's value
    end: str  # the line end after it ("\r\n", "\n" or "" at the end of the file)
    changed: dict = field(default_factory=dict)  # column index -> new value

    def set(self, index, value):
        self.changed[index] = value

    def text(self, delimiter):
        cells = [quote(self.changed[i], delimiter) if i in self.changed else raw for i, raw in enumerate(self.raw)]
        return delimiter.join(cells) + self.end


def parse(text, delimiter=","):
    """The records of ``text``; quoted cells may hold delimiters, quotes and line breaks."""
    records, raw, values = [], [], []
    i, n = 0, len(text)
    while i < n or raw:
        start = i
        if i < n and text[i] == '"':
            i += 1
            value = []
            while i < n:
                if text[i] == '"':
                    if i + 1 < n and text[i + 1] == '"':
                        value.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                value.append(text[i])
                i += 1
            while i < n and text[i] not in (delimiter, "\r", "\n"):
                value.append(text[i])  # text after a closing quote: kept as it is
                i += 1
            value = "".join(value)
        else:
            while i < n and text[i] not in (delimiter, "\r", "\n"):
                i += 1
            value = text[start:i]
        raw.append(text[start:i])
        values.append(value)
        if i < n and text[i] == delimiter:
            i += 1
            continue
        end = "\r\n" if text.startswith("\r\n", i) else text[i:i + 1]
        i += len(end)
        records.append(Record(raw, values, end))
        raw, values = [], []
        if i >= n:
            break
    return records


def quote(value, delimiter):
    if any(char in value for char in (delimiter, '"', "\r", "\n")) or value != value.strip():
        return '"' + value.replace('"', '""') + '"'
    return value
