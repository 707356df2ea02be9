"""factory_boy factories for tests: extra agencies, people and circles beyond the demo cast."""

from __future__ import annotations

import factory

from .models import Agency, AgencyType, Circle, Region, RegionLevel, Role, RoleGrant, User


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"测试单位{n:05d}")
    type = AgencyType.OTHER
    level = RegionLevel.CITY
    region = factory.LazyFunction(lambda: Region.objects.get(code="510100"))


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"person{n:05d}")
    full_name = factory.Sequence(lambda n: f"测试人员{n}")
    agency = factory.SubFactory(AgencyFactory)
    password = factory.django.Password("correct horse battery staple")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            RoleGrant.objects.bulk_create([RoleGrant(user=self, role=r) for r in extracted if r != Role.COORDINATOR])


class CircleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Circle
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"测试协作区{n}")
    slug = factory.Sequence(lambda n: f"test-circle-{n}")

    @factory.post_generation
    def regions(self, create, extracted, **kwargs):
        if create and extracted:
            self.regions.set(extracted)
