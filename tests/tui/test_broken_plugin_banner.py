"""The dashboard says when a school's policy plugin is broken, in the plugin's own words, as text."""

from __future__ import annotations

from dashkit import World, attach
from pilotkit import dashboard
from textual.notifications import Notify

from hv_connector import hookimpl
from hv_connector.plugins import Policies, build_plugin_manager


class BrokenHeader:
    """A policy plugin whose policy_info raises with text that looks like markup."""

    @hookimpl
    def policy_info(self):  # type: ignore[no-untyped-def]
        raise ValueError("[bold red]bad[/] review date")


async def test_a_broken_plugin_is_shown_with_its_error_as_text(world: World) -> None:
    pm = build_plugin_manager()
    pm.register(BrokenHeader(), name="oakfield")
    broken_world = attach(world.store, world.ids, policies=Policies(pm))
    async with dashboard(broken_world) as run:
        [banner] = run.notices("error")
        assert banner.startswith("policy plugin 'oakfield' (no configured school) is broken: "
                                 "ValueError: [bold red]bad[/] review date")
        assert "the other schools work as before" in banner
        assert all(not m.notification.markup for m in run.posted(Notify) if m.notification.severity == "error")
