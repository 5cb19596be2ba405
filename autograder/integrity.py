"""Keeps the tests' verdict independent of what student code did to the interpreter.

Student code runs in the same process as the tests, so it can monkeypatch numpy, builtins or
the course's checks. ``snapshot()``, called right after the trusted imports, records every
loaded module's namespace, every Python function's code, defaults and closure, every class
written in Python, and the import system; the function it returns puts all of it back and
reports which trusted callables had been replaced. The runner calls it before each test (so
what the solution cells did is undone) and after each test (so a replacement made while the
test ran fails that test).

The returned function and the audit hook keep everything they use in closures, taken before
any student code runs, so patching this module, ``builtins`` or a class cannot change them;
the unchanged case is checked by C iterators alone (``map``/``operator.is_``), a few ms for
torch's thousands of modules.
"""

import builtins
import operator
import os
import sys
import types
from itertools import chain, repeat

_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: only classes written in Python accept new attributes
DENIED_EVENTS = frozenset({
    "gc.get_objects", "gc.get_referrers", "gc.get_referents",  # reach any object, e.g. type dicts
    "sys.addaudithook",  # a second hook could undo this one's refusals
    "sys.settrace", "sys.setprofile",  # a trace function can jump over a test's checks
})


def snapshot(exclude=(), trusted_prefixes=()):
    """Record the interpreter's state; return ``restore()`` which puts it back.

    ``restore()`` returns the names of trusted callables, modules and classes that had been
    replaced (plain data that changed, e.g. a lazily filled cache, is restored silently).
    Modules in ``exclude`` (the student's namespace) are left alone. A module imported later
    stays in ``sys.modules`` when its file lies under ``trusted_prefixes`` (trusted code imports
    lazily, and an extension module cannot be loaded twice); any other one is removed.
    """
    missing = object()
    _type, _str, _callable, _isinstance, _issubclass, _id = type, str, callable, isinstance, issubclass, id
    _all, _map, _sum, _len, _zip, _list, _any = all, map, sum, len, zip, list, any
    is_, dict_get, flatten = operator.is_, dict.get, chain.from_iterable
    dict_keys, dict_values = dict.keys, dict.values
    proxy_keys, proxy_values = types.MappingProxyType.keys, types.MappingProxyType.values
    get_code, get_defaults, get_kwdefaults = (operator.attrgetter(name) for name in
                                               ("__code__", "__defaults__", "__kwdefaults__"))
    get_contents = operator.attrgetter("cell_contents")
    module_type, function_type = types.ModuleType, types.FunctionType
    object_setattr, type_setattr, type_delattr = object.__setattr__, type.__setattr__, type.__delattr__
    class_dict, class_bases = type.__dict__["__dict__"].__get__, type.__dict__["__bases__"].__get__
    excluded = {_id(module) for module in exclude}
    builtins_dict, saved_builtins = builtins.__dict__, dict(builtins.__dict__)
    sys_modules, saved_modules = sys.modules, dict(sys.modules)
    prefixes, realpath = tuple(trusted_prefixes), os.path.realpath
    module_dict = types.ModuleType.__dict__["__dict__"].__get__
    expected = dict(saved_modules)  # and the trusted modules imported since, which stay
    sys_lists = [(getattr(sys, name), list(getattr(sys, name)), name) for name in ("path", "meta_path", "path_hooks")]
    importer_cache, saved_importer_cache = sys.path_importer_cache, dict(sys.path_importer_cache)

    modules, classes, functions, cells = [], {}, {}, []

    def collect(value):
        kind = _type(value)
        if kind is function_type:
            if _id(value) not in functions:
                functions[_id(value)] = (value, _str(value.__qualname__))
                for cell in value.__closure__ or ():
                    try:
                        cells.append((cell, cell.cell_contents, _str(value.__qualname__)))
                    except ValueError:  # an empty cell: a name not bound yet
                        pass
        elif _issubclass(kind, type) and value.__flags__ & _HEAPTYPE and _id(value) not in classes:
            proxy = class_dict(value)
            classes[_id(value)] = (value, _str(value.__qualname__), proxy, dict(proxy), kind, class_bases(value))
            for member in proxy.values():
                if _type(member) in (staticmethod, classmethod):
                    collect(member.__func__)
                elif _type(member) is property:
                    for accessor in (member.fget, member.fset, member.fdel):
                        collect(accessor)
                else:
                    collect(member)

    for name, module in saved_modules.items():
        namespace = getattr(module, "__dict__", None)
        if _id(module) in excluded or _type(namespace) is not dict:
            continue
        modules.append((name, module, _type(module), namespace, dict(namespace)))
        for value in namespace.values():
            collect(value)

    # Flat columns for the quick check of the unchanged case.
    module_objects = tuple(m[1] for m in modules)
    module_kinds = tuple(m[2] for m in modules)
    namespaces = tuple(m[3] for m in modules)
    entry_keys = tuple(key for m in modules for key in m[4])
    entry_values = tuple(value for m in modules for value in m[4].values())
    entries_total = _len(entry_keys)
    class_list = tuple(classes.values())
    class_objects = tuple(c[0] for c in class_list)
    class_kinds = tuple(c[4] for c in class_list)
    class_bases_saved = tuple(c[5] for c in class_list)
    proxies = tuple(c[2] for c in class_list)
    member_keys = tuple(key for c in class_list for key in c[3])
    member_values = tuple(value for c in class_list for value in c[3].values())
    members_total = _len(member_keys)
    function_list = tuple(functions.values())
    function_objects = tuple(f[0] for f in function_list)
    codes = tuple(_map(get_code, function_objects))
    defaults = tuple(_map(get_defaults, function_objects))
    kwdefaults = tuple(_map(get_kwdefaults, function_objects))
    cell_objects = tuple(c[0] for c in cells)
    cell_values = tuple(c[1] for c in cells)
    graveyard = []  # objects removed by a restore: their __del__ must never run mid-test

    def same(values, saved):
        return _all(_map(is_, values, saved))

    def modules_unchanged():
        # Same sizes, and the same key and value objects in the same order: nothing was touched.
        return (_sum(_map(_len, namespaces)) == entries_total
                and same(_map(_type, module_objects), module_kinds)
                and same(flatten(_map(dict_values, namespaces)), entry_values)
                and same(flatten(_map(dict_keys, namespaces)), entry_keys))

    def classes_unchanged():
        return (_sum(_map(_len, proxies)) == members_total
                and same(_map(_type, class_objects), class_kinds)
                and same(_map(class_bases, class_objects), class_bases_saved)
                and same(flatten(_map(proxy_values, proxies)), member_values)
                and same(flatten(_map(proxy_keys, proxies)), member_keys))

    def functions_unchanged():
        try:
            contents = _list(_map(get_contents, cell_objects))
        except ValueError:  # a cell was emptied
            return False
        return (same(_map(get_code, function_objects), codes) and same(_map(get_defaults, function_objects), defaults)
                and same(_map(get_kwdefaults, function_objects), kwdefaults) and same(contents, cell_values))

    def suspicious(value):
        return _callable(value) or _isinstance(value, module_type)

    def reset_dict(current, saved, owner, changes):
        items = _list(current.items())
        seen = current
        if [item for item in items if _type(item[0]) is not _str]:
            # A non-string key could run code while being hashed or compared: read around it.
            changes.append(f"{owner} (посторонние ключи)")
            seen = {key: value for key, value in items if _type(key) is _str}
        elif _len(current) == _len(saved) and same(_map(dict_get, repeat(current), saved, repeat(missing)),
                                                   saved.values()):
            return
        changed = [key for key, value in saved.items() if seen.get(key, missing) is not value]
        graveyard.append(items)
        current.clear()
        current.update(saved)
        changes.extend(f"{owner}.{key}" for key in changed if suspicious(saved[key]))

    def trusted_file(module):
        """A module loaded from the read-only environment: a lazy import of trusted code."""
        if _type(module) is not types.ModuleType:
            return False
        path = dict_get(module_dict(module), "__file__")
        return _type(path) is _str and realpath(path).startswith(prefixes)

    def restore_sys_modules(changes):
        if _len(sys_modules) == _len(expected) and same(
                _map(dict_get, repeat(sys_modules), expected, repeat(missing)), expected.values()):
            return
        items = _list(sys_modules.items())
        for name, module in items:
            if _type(name) is _str and name not in expected and trusted_file(module):
                expected[name] = module
        seen = {name: module for name, module in items if _type(name) is _str}
        changes.extend(f"sys.modules[{name!r}]" for name, module in saved_modules.items()
                       if seen.get(name, missing) is not module)
        graveyard.append(items)
        sys_modules.clear()
        sys_modules.update(expected)

    def restore_modules(changes):
        for name, module, module_kind, namespace, saved in modules:
            if _type(module) is not module_kind:
                changes.append(f"{name}.__class__")
                object_setattr(module, "__class__", module_kind)
            reset_dict(namespace, saved, name, changes)

    def restore_classes(changes):
        for cls, name, current, saved, kind, bases in class_list:
            try:
                if _type(cls) is not kind:
                    changes.append(f"{name}.__class__")
                    type_setattr(cls, "__class__", kind)
                if class_bases(cls) is not bases:
                    changes.append(f"{name}.__bases__")
                    type_setattr(cls, "__bases__", bases)
            except TypeError:
                changes.append(f"{name} (не восстановлен)")
            for key in [key for key in current if key not in saved]:
                graveyard.append(current[key])
                if _callable(current[key]):  # shadows what the class inherits
                    changes.append(f"{name}.{key}")
                type_delattr(cls, key)
            for key, value in saved.items():
                now = current.get(key, missing)
                if now is not value:
                    graveyard.append(now)
                    if suspicious(value):
                        changes.append(f"{name}.{key}")
                    try:
                        type_setattr(cls, key, value)
                    except (TypeError, AttributeError):
                        changes.append(f"{name}.{key} (не восстановлен)")

    def restore_functions(changes):
        for (function, name), code, default, kwdefault in _zip(function_list, codes, defaults, kwdefaults):
            if function.__code__ is not code:
                changes.append(f"{name}.__code__")
                function.__code__ = code
            if function.__defaults__ is not default or function.__kwdefaults__ is not kwdefault:
                changes.append(f"{name}.__defaults__")
                function.__defaults__, function.__kwdefaults__ = default, kwdefault
        for cell, value, name in cells:
            try:
                now = cell.cell_contents
            except ValueError:
                now = missing
            if now is not value:
                graveyard.append(now)
                if suspicious(value):
                    changes.append(f"{name} (замыкание)")
                cell.cell_contents = value

    def restore():
        changes = []
        # Builtins first: the slow paths below call them.
        reset_dict(builtins_dict, saved_builtins, "builtins", changes)
        restore_sys_modules(changes)
        if not modules_unchanged():
            restore_modules(changes)
        if not classes_unchanged():
            restore_classes(changes)
        if not functions_unchanged():
            restore_functions(changes)
        for current, saved, name in sys_lists:
            if _len(current) != _len(saved) or not same(current, saved):
                if name != "path":  # an import hook would see every later import
                    changes.append(f"sys.{name}")
                graveyard.append(current[:])
                current[:] = saved
        reset_dict(importer_cache, saved_importer_cache, "sys.path_importer_cache", [])
        return changes

    return restore


def install_guard():
    """Refuse, from now on, the tools that reach beneath the snapshot. Cannot be removed."""
    denied, error, text_types = DENIED_EVENTS, RuntimeError, (str, bytes)
    _isinstance = isinstance

    def guard(event, args):
        if event in denied or event.startswith("ctypes."):
            raise error(f"операция запрещена при проверке: {event}")
        if event == "open" and args and _isinstance(args[0], text_types):
            path = args[0].decode("utf-8", "replace") if _isinstance(args[0], bytes) else args[0]
            if path.startswith("/proc/") and path.rstrip("/").rsplit("/", 1)[-1] in ("mem", "map_files"):
                raise error("операция запрещена при проверке: доступ к памяти процесса")

    sys.addaudithook(guard)
