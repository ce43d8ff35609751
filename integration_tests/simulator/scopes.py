"""Scopes of the routes added for the new streams, copied from the ``security`` blocks of the OAS.

``SpecSecurity`` blocks are read per ``settings.scope_list_semantics`` (see ``oauth.SpecSecurity``). Searches are
the exception: the reference confirms that ``/tickets/search`` needs the module's scope *and* ``Desk.search.READ``
[C], and every /search block of Search.json has the same two-scope shape, so they are explicit groups.
"""

from __future__ import annotations

from .oauth import SpecSecurity

AGENTS_READ = SpecSecurity(["Desk.agents.READ", "Desk.basic.READ", "Desk.settings.READ"])
TEAMS_READ = SpecSecurity(["Desk.basic.READ", "Desk.settings.READ", "Desk.teams.READ"])
TEAM_MEMBERS_READ = SpecSecurity(["Desk.agents.READ", "Desk.basic.READ", "Desk.settings.READ", "Desk.teams.READ"])
PERMISSIONS_READ = SpecSecurity(["Desk.basic.READ", "Desk.permissions.READ", "Desk.settings.READ"])  # roles, profiles
SKILLS_READ = SpecSecurity(["Desk.automations.READ", "Desk.settings.READ"])
SUPPORT_PLANS_READ = SpecSecurity(["Desk.automations.READ", "Desk.settings.READ"])
# BusinessHour.json / HolidayList.json list two blocks: [automations, settings] and [settings]
HOURS_READ = SpecSecurity(["Desk.automations.READ", "Desk.settings.READ"], ["Desk.settings.READ"])
LAYOUTS_READ = SpecSecurity(["Desk.basic.READ", "Desk.layouts.READ"])
CHANNELS_READ = SpecSecurity(["Desk.basic.READ"])
FIELDS_LIST_READ = SpecSecurity(["Desk.basic.READ", "Desk.fields.READ"])  # GET /fields
FIELD_READ = SpecSecurity(["Desk.fields.READ", "Desk.settings.READ"])  # GET /fields/{id}
TICKETS_READ = SpecSecurity(["Desk.tickets.READ"])  # threads, comments, time entries, attachments, tags
TASKS_READ = SpecSecurity(["Desk.activities.tasks.READ", "Desk.tasks.READ"])
CALLS_READ = SpecSecurity(["Desk.activities.calls.READ", "Desk.calls.READ"])
EVENTS_READ = SpecSecurity(["Desk.activities.events.READ", "Desk.events.READ"])
TICKET_ACTIVITIES_READ = SpecSecurity(
    [
        "Desk.activities.calls.READ",
        "Desk.activities.tasks.READ",
        "Desk.activities.events.READ",
        "Desk.calls.READ",
        "Desk.tasks.READ",
        "Desk.events.READ",
    ]
)
ARTICLES_READ = SpecSecurity(["Desk.articles.READ"])


def search(*module_scopes: str) -> list:
    """One group per module scope, each with ``Desk.search.READ``."""
    return [[scope, "Desk.search.READ"] for scope in module_scopes]
