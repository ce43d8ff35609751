"""Routes for who works in the portal: teams and their members, roles, profiles and skills.

* ``GET /teams`` (Team.json): ``from`` 0-based, ``limit`` 0-200 where 0 - the default - lists every team; the answer
  is ``{"teams": [...]}``, not ``data``. ``GET /departments/{id}/teams`` adds ``searchStr``.
  ``GET /teams/{id}/members``: ``{"members": [...]}`` (not paged), ``include`` = profile, role.
* ``GET /roles`` (Role.json): ``limit`` 0-500, ``from`` 0-based, ``isDefault``, ``isVisible``, ``searchStr``.
* ``GET /profiles`` (Profile.json): ``limit`` 1-250 (default 250), ``from``, ``default``, ``visible``,
  ``searchStr``; ``fields`` adds optional keys (type, isVisible, default, modifiedBy, modifiedTime, permissions,
  description) to the rows, which otherwise carry ``id`` and ``name``.
* ``GET /skills`` (Skill.json): ``departmentId`` required, ``limit`` 1-100 (default 100), ``from``, ``status``,
  ``skillTypeId``, ``skillIds`` (<= 50), ``searchString`` (names starting with it).
"""

from __future__ import annotations

import copy
import re

from . import scopes
from .errors import Response, json_response, unprocessable
from .listing import Filter, ListSpec, rows_or_204, serve_list
from .params import check_allowed, list_param

TEAMS = ListSpec(max_limit=200, default_limit=0, min_limit=0, envelope="teams", zero_means_all=True)
DEPARTMENT_TEAMS = ListSpec(
    max_limit=200,
    default_limit=0,
    min_limit=0,
    envelope="teams",
    zero_means_all=True,
    filters=(Filter("searchStr", "name", "text"),),
)
ROLES = ListSpec(
    max_limit=500,
    min_limit=0,
    zero_means_all=True,
    filters=(
        Filter("isDefault", "isDefault", "bool"),
        Filter("isVisible", "isVisible", "bool"),
        Filter("searchStr", "name", "text"),
    ),
)
PROFILES = ListSpec(
    max_limit=250,
    default_limit=250,
    accepted=("fields",),
    filters=(
        Filter("default", "default", "bool"),
        Filter("visible", "isVisible", "bool"),
        Filter("searchStr", "name", "text"),
    ),
)
PROFILE_OPTIONAL = ("type", "isVisible", "default", "modifiedBy", "modifiedTime", "permissions", "description")
_PROFILE_FIELDS_RE = re.compile(r"^((%s)(,(%s))*)?$" % ("|".join(PROFILE_OPTIONAL), "|".join(PROFILE_OPTIONAL)))
SKILLS = ListSpec(
    max_limit=100,
    default_limit=100,
    required=("departmentId",),
    filters=(
        Filter("departmentId", "departmentId", "id"),
        Filter("skillTypeId", "skillTypeId", "id"),
        Filter("skillIds", "id", "ids", max_items=50),
        Filter("status", "status", "enum", values=("ACTIVE", "INACTIVE")),
        Filter("searchString", "name", "prefix"),
    ),
)


class PeopleApi:
    def __init__(self, api) -> None:
        self.api = api

    def routes(self, R) -> list:
        return [
            R("GET", r"/teams", self.list_teams, scopes.TEAMS_READ, "list"),
            R("GET", r"/teams/(\d+)/members", self.team_members, scopes.TEAM_MEMBERS_READ),
            R("GET", r"/teams/([^/]+)", self.get_team, scopes.TEAMS_READ),
            R("GET", r"/departments/([^/]+)/teams", self.department_teams, scopes.TEAMS_READ, "list"),
            R("GET", r"/roles", self.list_roles, scopes.PERMISSIONS_READ, "list"),
            R("GET", r"/roles/([^/]+)", self.get_role, scopes.PERMISSIONS_READ),
            R("GET", r"/profiles", self.list_profiles, scopes.PERMISSIONS_READ, "list"),
            R("GET", r"/profiles/([^/]+)", self.get_profile, scopes.PERMISSIONS_READ),
            R("GET", r"/skills", self.list_skills, scopes.SKILLS_READ, "list"),
            R("GET", r"/skills/([^/]+)", self.get_skill, scopes.SKILLS_READ),
        ]

    @property
    def default_limit(self) -> int:
        return self.api.settings.default_list_limit

    # --- teams -----------------------------------------------------------------------------------------------
    def list_teams(self, ctx) -> Response:
        return serve_list(TEAMS, self.api._values("teams"), ctx.query, self.default_limit)

    def department_teams(self, ctx) -> Response:
        dept = self.api._get("departments", ctx.groups[0])
        rows = [t for t in self.api._values("teams") if t["departmentId"] == dept["id"]]
        return serve_list(DEPARTMENT_TEAMS, rows, ctx.query, self.default_limit)

    def get_team(self, ctx) -> Response:
        check_allowed(ctx.query, ())
        return json_response(200, self.api._get("teams", ctx.groups[0]))

    def team_members(self, ctx) -> Response:
        check_allowed(ctx.query, ("include",))
        includes = list_param(ctx.query, "include", ("profile", "role"))
        team = self.api._get("teams", ctx.groups[0])
        members = []
        for agent_id in team["derivedAgents"]:
            agent = self.api._lookup("agents", agent_id)
            if agent is None:
                continue
            row = {
                k: agent.get(k)
                for k in ("id", "firstName", "lastName", "photoURL", "roleId", "profileId", "emailId", "zuid")
            }
            for key, module in (("role", "roles"), ("profile", "profiles")):
                if key in includes:
                    found = self.api._lookup(module, agent.get(f"{key}Id"))
                    row[key] = {"id": found["id"], "name": found["name"]} if found else None
            members.append(row)
        return rows_or_204(members, envelope="members")

    # --- roles / profiles / skills ------------------------------------------------------------------------------
    def list_roles(self, ctx) -> Response:
        return serve_list(ROLES, self.api._values("roles"), ctx.query, self.default_limit)

    def get_role(self, ctx) -> Response:
        check_allowed(ctx.query, ())
        return json_response(200, self.api._get("roles", ctx.groups[0]))

    def list_profiles(self, ctx) -> Response:
        raw = ctx.query.get("fields")
        if raw is not None and (len(raw) > 100 or not _PROFILE_FIELDS_RE.match(raw)):
            raise unprocessable("fields", "The value passed for the 'fields' is invalid")
        optional = [n for n in (raw or "").split(",") if n]

        def row(rec: dict) -> dict:
            out = {"id": rec["id"], "name": rec["name"]}
            out.update({n: copy.deepcopy(rec.get(n)) for n in optional})
            return out

        return serve_list(PROFILES, self.api._values("profiles"), ctx.query, self.default_limit, project=row)

    def get_profile(self, ctx) -> Response:
        check_allowed(ctx.query, ())
        return json_response(200, self.api._get("profiles", ctx.groups[0]))

    def list_skills(self, ctx) -> Response:
        return serve_list(SKILLS, self.api._values("skills"), ctx.query, self.default_limit)

    def get_skill(self, ctx) -> Response:
        check_allowed(ctx.query, ())
        return json_response(200, self.api._get("skills", ctx.groups[0]))
