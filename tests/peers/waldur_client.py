"""Waldur's official Python client (PyPI `waldur-api-client`, generated from
Waldur's own spec) driven against a mock: a frontend's calls must come back
as the client's models, parsed without error. Prints one line per call; any
exception fails the test that runs it.

Usage: python3 waldur_client.py BASE_URL
"""
import sys

from waldur_api_client import AuthenticatedClient
from waldur_api_client.api.customers import customers_create, customers_retrieve
from waldur_api_client.api.projects import (
    projects_create,
    projects_destroy,
    projects_list,
    projects_partial_update,
    projects_recover,
    projects_retrieve,
)
from waldur_api_client.models import (
    CustomerRequest,
    PatchedProjectRequest,
    ProjectRecoveryRequest,
    ProjectRequest,
)

STAFF = "0123456789abcdef0123456789abcdef01234567"
client = AuthenticatedClient(base_url=sys.argv[1], token=STAFF, prefix="Token")

customer = customers_create.sync(client=client, body=CustomerRequest(name="Client Org"))
assert customer is not None and customer.name == "Client Org", customer
print("customer", customer.uuid)
assert customers_retrieve.sync(client=client, uuid=customer.uuid).name == "Client Org"
project = projects_create.sync(client=client, body=ProjectRequest(name="Client Project", customer=customer.url))
assert project is not None and project.customer_uuid == customer.uuid, project
print("project", project.uuid, project.created)
# The client writes UUIDs with hyphens; the server (and the mock) take them.
got = projects_retrieve.sync(client=client, uuid=project.uuid)
assert got.name == "Client Project" and got.is_removed is False and got.kind.value == "default", got
patched = projects_partial_update.sync(client=client, uuid=project.uuid, body=PatchedProjectRequest(description="patched"))
assert patched.description == "patched", patched
listed = projects_list.sync(client=client, name="Client")
assert [p.uuid for p in listed] == [project.uuid], listed
assert projects_destroy.sync_detailed(client=client, uuid=project.uuid).status_code == 204
recovered = projects_recover.sync(client=client, uuid=project.uuid, body=ProjectRecoveryRequest())
assert recovered.is_removed is False, recovered
print("ok")
