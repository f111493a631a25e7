"""Pages of the clerical review queue and of undoing a merge, in the "linkage" namespace."""

from django.urls import path

from civicloop.linkage import views

app_name = "linkage"
urlpatterns = [
    path("review/", views.review_list, name="review_list"),
    path("review/<int:review_item_id>/", views.review_detail, name="review_detail"),
    path("review/<int:review_item_id>/decide/", views.review_decide, name="review_decide"),
    path("merges/<int:merge_id>/undo/", views.merge_undo, name="merge_undo"),
]
