"""Template context shared by every page: the agency and the signed-in staff member."""

from django.conf import settings


def staff_context(request):
    staff = (
        getattr(getattr(request, "user", None), "staff", None)
        if getattr(request, "user", None) and request.user.is_authenticated
        else None
    )
    return {"agency_name": settings.CIVICLOOP["AGENCY_NAME"], "current_staff": staff}
