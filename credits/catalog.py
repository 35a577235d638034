"""The demo action catalog (docs/rules/credits.md#action-catalog).

Loaded once by a data migration; operators edit costs and labels in the Django
admin afterwards, so loading never overwrites an existing row.
"""

from __future__ import annotations

from typing import Any

# (code, French label, English label, cost in credits per unit)
ACTIONS: list[tuple[str, str, str, int]] = [
    ("summarize", "Résumer un fil de discussions", "Summarize a thread", 1),
    ("translate", "Traduire du texte", "Translate text", 1),
    ("cluster_notes", "Regrouper les pense-bêtes", "Cluster sticky notes", 1),
    ("generate_diagram", "Créer un diagramme", "Generate a diagram", 1),
    ("digitize_diagram", "Numériser le diagramme", "Digitize a diagram", 1),
    ("remove_background", "Supprimer l’arrière-plan d’une image", "Remove an image background", 1),
    ("iterate", "Itérer les résultats générés par l’IA", "Iterate on AI results", 1),
    # The Prototypes add-on uses five credits per AI-generated screen (docs/rules/plans.md#add-ons).
    ("prototype_screen", "Générer un écran de prototype", "Generate a prototype screen", 5),
    # Accessibility features (image alt text) use no credit (docs/rules/credits.md#action-catalog).
    ("alt_text", "Générer le texte alternatif d’une image", "Generate image alt text", 0),
]


def load_action_catalog(action_model: Any) -> None:
    """Create missing action types (the model is passed in so migrations can use it)."""
    for code, label_fr, label_en, cost in ACTIONS:
        action_model.objects.get_or_create(
            code=code, defaults={"label_fr": label_fr, "label_en": label_en, "cost": cost}
        )
