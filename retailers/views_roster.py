"""The roster import pages: upload → dry-run preview → apply, and the templates (DESIGN §7)."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config import imports
from config.errors import ApplicationError
from retailers import roster, services
from retailers.models import RosterImport
from retailers.views_rating import supervisor_required
from territory.models import Route

PREVIEW_ROWS = 200


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Roster file (.xlsx or .csv)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.ROSTER_IMPORT_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                _("The file is too large (%(size)s bytes; the limit is %(limit)s).")
                % {"size": upload.size, "limit": limit}
            )
        return upload


def _context(request: HttpRequest, **extra) -> dict:
    return {
        "columns": roster.COLUMNS,
        "max_bytes": settings.ROSTER_IMPORT_MAX_BYTES,
        "max_rows": settings.ROSTER_IMPORT_MAX_ROWS,
        "preview_rows": PREVIEW_ROWS,
        "can_import": services.roster_districts(request.user).exists(),
        **extra,
    }


@require_http_methods(["GET", "POST"])
@supervisor_required
def roster_import(request: HttpRequest) -> HttpResponse:
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    template = "retailers/roster_import.html"
    if request.method == "GET":
        return render(request, template, _context(request, form=form))
    if not services.roster_districts(request.user).exists():
        raise Http404
    if not form.is_valid():
        return render(request, template, _context(request, form=form), status=400)
    upload = form.cleaned_data["file"]
    try:
        check, stored = services.roster_preview(
            data=upload.read(),
            file_name=upload.name,
            by=request.user,
            content_type=getattr(upload, "content_type", "") or "",
        )
    except ApplicationError as exc:
        form.add_error("file", exc.message)
        return render(request, template, _context(request, form=form), status=400)
    context = _context(request, form=RosterUploadForm(), check=check, upload=stored)
    return render(request, template, context, status=200 if check.ok else 400)


@require_POST
@supervisor_required
def roster_apply(request: HttpRequest, pk: int) -> HttpResponse:
    upload = RosterImport.objects.filter(pk=pk, uploaded_by=request.user).first()
    if upload is None:
        raise Http404
    try:
        check = services.roster_apply(
            upload=upload, digest=request.POST.get("digest", ""), by=request.user
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        for errors in exc.extra.values():
            for error in errors:
                messages.error(request, error)
        return redirect("retailers:roster-import")
    messages.success(
        request,
        _("Roster applied: %(c)s created, %(u)s updated, %(n)s unchanged.")
        % {"c": len(check.creates), "u": len(check.updates), "n": len(check.unchanged)},
    )
    return redirect("retailers:list")


@require_GET
@supervisor_required
def roster_template(request: HttpRequest, fmt: str) -> HttpResponse:
    """An empty roster with the header and one example row from one of the user's routes."""
    if fmt not in (imports.CSV, imports.XLSX):
        raise Http404
    route = (
        Route.objects.filter(district__in=services.roster_districts(request.user))
        .select_related("district")
        .order_by("district__code", "code")
        .first()
    )
    header = [c.key for c in roster.COLUMNS]
    example = {
        "licence_number": "411425199999",
        "name": "示例便利店",
        "district": route.district.code if route else "D1",
        "route": route.code if route else "A",
        "business_type": "convenience",
        "stop_order": "1",
        "owner_name": "张三",
        "phone": "13800000000",
        "address": "人民路1号",
        "star": "3",
        "integrity_level": "B",
        "ordering_channel": "phone",
        "payment_method": "e_settlement",
        "needs_assistance": "no",
        "opened_on": "2024-03-01",
    }
    rows = [[example[k] for k in header]]
    if fmt == imports.CSV:
        body, content_type = imports.csv_bytes(header, rows), "text/csv; charset=utf-8"
    else:
        body = imports.xlsx_bytes(header, rows, title="roster")
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="roster-template.{fmt}"'
    return response
