"""Users, workspaces, memberships and invitations."""

import factory
from allauth.account.models import EmailAddress

from workspaces.models import Invitation, Membership, Role, User, Workspace

PASSWORD = "correct-horse-battery-staple"


def owner_of(workspace: Workspace) -> Membership:
    return Membership.objects.get(workspace=workspace, role=Role.OWNER)


class EmailAddressFactory(factory.django.DjangoModelFactory):
    """allauth's record of a user's address, verified (sign-in requires it)."""

    class Meta:
        model = EmailAddress

    user = factory.SubFactory("tests.factories.workspaces.UserFactory", verified=False)
    email = factory.SelfAttribute("user.email")
    verified = True
    primary = True


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        self.save()
        if create and extracted is not False:
            EmailAddressFactory(user=self)


class WorkspaceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workspace

    name = factory.Sequence(lambda n: f"Workspace {n}")
    country = "FR"


class MembershipFactory(factory.django.DjangoModelFactory):
    """A member added straight in the database: no invitation, no seat rules (a team's
    starting state). Members who should take a seat join through ``teams.services``."""

    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.MEMBER


class InvitationFactory(factory.django.DjangoModelFactory):
    """A pending invitation, sent through ``teams.services.invitation_create`` (caps and
    duplicate checks apply) by ``invited_by`` (default: the workspace's owner).

    ``workspace`` is required; its owner must exist when no inviter is given.
    """

    class Meta:
        model = Invitation

    email = factory.Sequence(lambda n: f"invitee{n}@example.test")
    role = Role.MEMBER
    invited_by = None

    @classmethod
    def _create(cls, model_class, *, workspace, email, role, invited_by):
        from teams.services import invitation_create

        actor = invited_by or owner_of(workspace)
        return invitation_create(workspace=workspace, actor=actor, email=email, role=role)
