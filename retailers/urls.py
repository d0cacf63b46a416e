from django.urls import path

from retailers import views, views_rating, views_roster

app_name = "retailers"
urlpatterns = [
    path("", views.retailer_list, name="list"),
    path("<int:pk>/", views.retailer_detail, name="detail"),
    path("<int:pk>/star/", views_rating.star_override, name="star-override"),
    path("summary/", views.district_summary, name="district-summary"),
    path("rerating/", views_rating.rerating_list, name="rerating-list"),
    path("rerating/thresholds/<int:pk>/", views_rating.thresholds_edit, name="rerating-thresholds"),
    path("rerating/<int:pk>/", views_rating.proposal_detail, name="proposal-detail"),
    path(
        "rerating/<int:pk>/<str:decision>/",
        views_rating.proposal_decide,
        name="proposal-decide",
    ),
    path("managers/", views_rating.manager_list, name="manager-list"),
    path("managers/<int:pk>/", views_rating.manager_detail, name="manager-detail"),
    path("roster/", views_roster.roster_import, name="roster-import"),
    path("roster/<int:pk>/apply/", views_roster.roster_apply, name="roster-apply"),
    path("roster/template.<str:fmt>", views_roster.roster_template, name="roster-template"),
]
