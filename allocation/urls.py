from django.urls import path

from allocation import views

app_name = "allocation"
urlpatterns = [
    path("", views.supply_list, name="supply-list"),
    path("supplies/new/", views.supply_create, name="supply-create"),
    path("supplies/<int:pk>/", views.supply_detail, name="supply-detail"),
    path("supplies/<int:pk>/edit/", views.supply_edit, name="supply-edit"),
    path("supplies/<int:pk>/run/", views.supply_run, name="supply-run"),
    path("cycles/<int:pk>/run/", views.cycle_run, name="cycle-run"),
    path("points/", views.points, name="points"),
    path("points/<int:pk>/compute/", views.points_compute, name="points-compute"),
    path("runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("runs/<int:pk>/progress/", views.run_progress, name="run-progress"),
    path("runs/<int:pk>/approve/", views.run_approve, name="run-approve"),
    path("runs/<int:pk>/publish/", views.run_publish, name="run-publish"),
    path("runs/<int:pk>/export.<str:fmt>", views.run_export, name="run-export"),
    path("awards/", views.awards, name="awards"),
    path("rerating/propose/", views.rerating_propose, name="rerating-propose"),
    path("statement/<int:retailer>/<int:cycle>/", views.statement, name="statement"),
]
