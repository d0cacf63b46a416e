from django.urls import path

from visits import views, views_analytics

app_name = "visits"
urlpatterns = [
    path("today/", views.today, name="today"),
    path("find/", views.find_retailer, name="find"),
    path("retailers/<int:pk>/", views.retailer_card, name="card"),
    path("retailers/<int:pk>/check-in/", views.check_in, name="check-in"),
    path("retailers/<int:pk>/emergency/", views.emergency_request, name="emergency"),
    path("<int:pk>/", views.visit_detail, name="visit"),
    path("policies/", views.policy_list, name="policies"),
    path("policies/<int:star>/", views.policy_edit, name="policy-edit"),
    path("plan/", views.plan, name="plan"),
    path("plan/run/", views.plan_run, name="plan-run"),
    path("plan/add/", views.plan_add, name="plan-add"),
    path("plan/<int:pk>/move/", views.plan_move, name="plan-move"),
    path("compliance/", views.compliance, name="compliance"),
    path("stock/", views_analytics.stock, name="stock"),
    path(
        "compliance/summary.csv",
        views.compliance_csv,
        {"part": "summary"},
        name="compliance-summary-csv",
    ),
    path(
        "compliance/missed.csv",
        views.compliance_csv,
        {"part": "missed"},
        name="compliance-missed-csv",
    ),
]
