"""Routes for the knowledge base: articles and their root categories.

* ``GET /articles`` (Article.json): ``limit`` 1-50, ``from`` **1-based with minimum 1** (``from=0`` is a 422),
  ``permission`` and ``status`` (comma lists), ``authorId``, ``categoryId``, ``sortBy`` createdTime, modifiedTime,
  likeCount, viewCount, feedbackCount, dislikeCount (``-`` = descending), ``modifiedTimeRange``,
  ``expiryTimeRange``. List rows lack ``answer`` (the body); ``GET /articles/{id}`` has it.
* ``GET /kbRootCategories`` (KBRootCategory.json): ``limit`` 1-700 (default 50), ``from`` default 1, ``include``
  (article counts), ``isReviewEnabled``, ``departmentId``, ``locale``, ``searchValue``, ``status``, ``isTrashed``,
  ``visibility``, ``helpcenterId``, ``sortBy`` name|order.
"""

from __future__ import annotations

import copy

from . import schema, scopes
from .errors import Response, json_response
from .listing import page, paging, rows_or_204, sort_records, text_matches
from .params import bool_param, check_allowed, id_list_param, id_param, list_param, sort_param, time_range_param

ARTICLE_SORTS = ("createdTime", "modifiedTime", "likeCount", "viewCount", "feedbackCount", "dislikeCount")
ARTICLE_STATUSES = ("Draft", "Published", "Review", "Expired", "Unpublished")
CATEGORY_INCLUDES = (
    "publicArticlesCount",
    "sectionsCount",
    "allArticlesCount",
    "publishedArticleCount",
    "followersCount",
    "canCurrentUserReview",
    "allArticleTemplateCount",
)


class KnowledgeBaseApi:
    def __init__(self, api) -> None:
        self.api = api

    def routes(self, R) -> list:
        return [
            R("GET", r"/articles", self.list_articles, scopes.ARTICLES_READ, "list"),
            R("GET", r"/articles/(\d+)", self.get_article, scopes.ARTICLES_READ),
            R("GET", r"/kbRootCategories", self.list_root_categories, scopes.ARTICLES_READ, "list"),
            R("GET", r"/kbRootCategories/(\d+)", self.get_root_category, scopes.ARTICLES_READ),
        ]

    def list_articles(self, ctx) -> Response:
        q = ctx.query
        check_allowed(
            q,
            (
                "from",
                "limit",
                "sortBy",
                "permission",
                "authorId",
                "categoryId",
                "status",
                "modifiedTimeRange",
                "expiryTimeRange",
            ),
        )
        start, limit = paging(q, self.api.settings.default_list_limit, 50, base=1, from_min=1)
        sort_by = sort_param(q, ARTICLE_SORTS, "createdTime")
        permissions = list_param(q, "permission", ("ALL", "REGISTEREDUSERS", "AGENTS"))
        statuses = list_param(q, "status", ARTICLE_STATUSES)
        author = id_param(q, "authorId")
        category = id_param(q, "categoryId")
        modified = time_range_param(q, "modifiedTimeRange")
        expiry = time_range_param(q, "expiryTimeRange")
        rows = self.api._values("articles")
        if permissions:
            rows = [r for r in rows if r["permission"] in permissions]
        if statuses:
            rows = [r for r in rows if r["status"] in statuses]
        if author:
            rows = [r for r in rows if r["authorId"] == author]
        if category:
            rows = [r for r in rows if category in (r["categoryId"], r["rootCategoryId"])]
        if modified:
            rows = [r for r in rows if modified[0] <= r["modifiedTime"] <= modified[1]]
        if expiry:
            rows = [r for r in rows if r.get("expiryDate") and expiry[0] <= r["expiryDate"] <= expiry[1]]
        rows = sort_records(rows, sort_by, numeric=ARTICLE_SORTS[2:])
        return rows_or_204(
            [copy.deepcopy(schema.project(r, schema.ARTICLE_LIST_FIELDS)) for r in page(rows, start, limit)]
        )

    def get_article(self, ctx) -> Response:
        check_allowed(ctx.query, ("version",))
        return json_response(200, self.api._get("articles", ctx.groups[0]))

    def _category_row(self, rec: dict, includes) -> dict:
        row = copy.deepcopy(rec)
        articles = [a for a in self.api._values("articles") if a["rootCategoryId"] == rec["id"]]
        counts = {
            "publicArticlesCount": sum(1 for a in articles if a["status"] == "Published" and a["permission"] == "ALL"),
            "allArticlesCount": len(articles),
            "publishedArticleCount": sum(1 for a in articles if a["status"] == "Published"),
            "sectionsCount": 0,
            "followersCount": 0,
            "allArticleTemplateCount": 0,
        }
        for inc in includes:
            row[inc] = rec["isReviewEnabled"] if inc == "canCurrentUserReview" else str(counts[inc])
        return row

    def list_root_categories(self, ctx) -> Response:
        q = ctx.query
        check_allowed(
            q,
            (
                "from",
                "limit",
                "sortBy",
                "include",
                "isReviewEnabled",
                "departmentId",
                "locale",
                "searchValue",
                "status",
                "isTrashed",
                "visibility",
                "helpcenterId",
            ),
        )
        start, limit = paging(q, 50, 700, base=1)
        sort_by = sort_param(q, ("name", "order"), None)
        includes = list_param(q, "include", CATEGORY_INCLUDES)
        review = bool_param(q, "isReviewEnabled")
        trashed = bool_param(q, "isTrashed")
        depts = id_list_param(q, "departmentId")
        id_list_param(q, "helpcenterId", max_items=5)
        statuses = list_param(q, "status", ("SHOW_IN_HELPCENTER", "HIDE_IN_HELPCENTER", "DISABLED"))
        visibility = list_param(q, "visibility", ("AGENTS", "ALL_USERS", "GROUP_USERS", "NONE"))
        rows = self.api._values("kbCategories")
        if review is not None:
            rows = [r for r in rows if r["isReviewEnabled"] == review]
        if trashed is not None:
            rows = [r for r in rows if r["isTrashed"] == trashed]
        if depts:
            rows = [r for r in rows if r["departmentId"] in depts]
        if q.get("locale"):
            rows = [r for r in rows if r["locale"] == q["locale"]]
        if q.get("searchValue"):
            rows = [r for r in rows if text_matches(q["searchValue"], r["name"])]
        if statuses:
            rows = [r for r in rows if r["status"] in statuses]
        if visibility:
            rows = [r for r in rows if r["visibility"] in visibility]
        key = (lambda r: int(r["order"])) if sort_by and sort_by.lstrip("-") == "order" else None
        rows = sort_records(rows, sort_by, key)
        return rows_or_204([self._category_row(r, includes) for r in page(rows, start, limit)])

    def get_root_category(self, ctx) -> Response:
        check_allowed(ctx.query, ("include",))
        includes = list_param(ctx.query, "include", CATEGORY_INCLUDES)
        return json_response(200, self._category_row(self.api._get("kbCategories", ctx.groups[0]), includes))
