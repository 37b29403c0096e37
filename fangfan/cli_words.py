"""Click's own words in Chinese: the usage line, the help's section headings, the help
option, and the usage errors (click writes them in English and ships no translations, so
the `fangfan` command's classes say them instead; fangfan/cli.py uses `Group`)."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import click

SECTIONS = {"Options": "选项", "Commands": "命令", "Arguments": "参数"}
USAGE = {"[OPTIONS]": "[选项]", "COMMAND": "命令", "[ARGS]...": "[参数]..."}
HELP = "显示本帮助并退出。"


class Formatter(click.HelpFormatter):
    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        for english, chinese in USAGE.items():
            args = args.replace(english, chinese)
        super().write_usage(prog, args, prefix="用法：")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30,
                 col_spacing: int = 2) -> None:
        """The options' list, its extras ([required], [default: …]) in Chinese."""
        super().write_dl([(term, _extras(text)) for term, text in rows], col_max, col_spacing)

    def write_heading(self, heading: str) -> None:
        self.write(f"{'':>{self.current_indent}}{heading}：\n")

    @contextmanager
    def section(self, name: str) -> Iterator[None]:
        with super().section(SECTIONS.get(name, name)):
            yield


class Context(click.Context):
    formatter_class = Formatter


def _chinese_help(option: click.Option | None) -> click.Option | None:
    if option is not None:
        option.help = HELP
    return option


class Command(click.Command):
    context_class = Context

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        return _chinese_help(super().get_help_option(ctx))


class Group(click.Group):
    """The command and its groups: Chinese help, and usage errors told in Chinese."""

    context_class = Context
    command_class = Command
    group_class = type  # its subgroups are of this class too

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        return _chinese_help(super().get_help_option(ctx))

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,
             complete_var: str | None = None, standalone_mode: bool = True,
             **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            done = super().main(args, prog_name, complete_var, False, **extra)
        except click.UsageError as err:
            _usage_error(err)
        except click.ClickException as err:
            err.show()
            sys.exit(err.exit_code)
        except click.Abort:
            click.echo("已取消。", err=True)
            sys.exit(1)
        sys.exit(done if isinstance(done, int) else 0)  # --help: Exit's code


def _extras(text: str) -> str:
    return (text.replace("[required]", "[必填]").replace("[default: ", "[默认：")
            .replace("default: ", "默认："))


def _named(param: click.Parameter | None) -> str:
    """A parameter as the user typed it: the option's flag (--feeds), else its name."""
    if param is None:
        return "参数"
    if isinstance(param, click.Option) and param.opts:
        return max(param.opts, key=len)
    return param.human_readable_name


def _expected(param: click.Parameter | None) -> str | None:
    """What a value of the parameter's type looks like, in Chinese (click's own message is
    English)."""
    kind = param.type if param is not None else None
    if isinstance(kind, click.Path):
        what = "文件夹" if not kind.file_okay else "文件" if not kind.dir_okay else "文件或文件夹"
        return f"找不到这个{what}" if kind.exists else f"应为{what}"
    if isinstance(kind, click.DateTime):
        return "应为日期，如 2026-11-30"
    if isinstance(kind, click.Choice):
        return f"应为以下之一：{'、'.join(map(str, kind.choices))}"
    if isinstance(kind, click.types.IntParamType):
        return "应为整数"
    return None


def said(err: click.UsageError) -> str:
    """What was wrong with the command line, in Chinese."""
    if isinstance(err, click.NoSuchOption):
        return f"没有这个选项：{err.option_name}"
    if isinstance(err, click.exceptions.NoSuchCommand):
        return f"没有这个命令：{err.command_name}"
    if isinstance(err, click.MissingParameter):
        return f"缺少 {_named(err.param)}"
    if isinstance(err, click.BadParameter):
        expected = _expected(err.param)
        if expected is None:
            return f"{_named(err.param)} 的值不对（{err.message}）"
        given = re.search(r"'([^']*)'", err.message)  # click quotes the value it refused
        return (f"{_named(err.param)} 的值不对（{given.group(1) + '：' if given else ''}"
                f"{expected}）")
    return f"命令的写法不对（{err.message}）"


def _usage_error(err: click.UsageError) -> NoReturn:
    if err.ctx is not None:
        click.echo(err.ctx.get_usage(), err=True)
        click.echo(f"运行「{err.ctx.command_path} --help」查看用法。", err=True)
    click.echo(f"错误：{said(err)}", err=True)
    sys.exit(err.exit_code)
