"""A money-moving write's input copies its declared fields shallowly (`IdempotentWriteInput`):
safe only for flat fields, and only if every instance still gets copies of its own."""

from rest_framework.serializers import BaseSerializer

from transactions.apis import IdempotentWriteInput, TransactionViewSet


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def test_every_write_input_is_flat():
    inputs = list(_subclasses(IdempotentWriteInput))
    assert TransactionViewSet.CreateInputSerializer in inputs
    for cls in inputs:
        for name, field in cls._declared_fields.items():
            assert not isinstance(field, BaseSerializer), (cls, name)
            assert not hasattr(field, "child"), (cls, name)


def test_each_instance_validates_with_fields_of_its_own():
    cls = TransactionViewSet.CreateInputSerializer
    body = {"fromAccount": "a", "toAccount": "b", "amount": "1"}
    first = cls(data=body, header_key="first-key")
    second = cls(data=body, header_key="second-key")
    first_fields, second_fields = first.fields, second.fields
    for name, field in first_fields.items():
        assert field is not second_fields[name]
        assert field.parent is first and second_fields[name].parent is second
        assert cls._declared_fields[name].source is None  # the declared field stays unbound
    # Validated after the other instance was built: each reads its own header's key.
    assert first.is_valid() and second.is_valid()
    assert first.validated_data["idempotencyKey"] == "first-key"
    assert second.validated_data["idempotencyKey"] == "second-key"
