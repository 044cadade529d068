"""API groups, environments and environment variables through the official SDK."""

from huaweicloudsdkapig.v2 import (
    ApiGroupBase,
    ApiGroupCheck,
    CheckApiGroupsV2Request,
    CreateApiGroupV2Request,
    CreateEnvironmentVariableV2Request,
    DeleteApiGroupV2Request,
    DeleteEnvironmentV2Request,
    DeleteEnvironmentVariableV2Request,
    EnvCreate,
    EnvVariableBase,
    EnvVariableCreate,
    ListApiGroupsV2Request,
    ListEnvironmentsV2Request,
    ListEnvironmentVariablesV2Request,
    ShowDetailsOfApiGroupV2Request,
    ShowDetailsOfEnvironmentVariableV2Request,
    UpdateApiGroupV2Request,
    UpdateEnvironmentV2Request,
    UpdateEnvironmentVariableV2Request,
)

import sdkhelpers as h


# ------------------------------------------------------------------------------------ groups


def test_group_create_show_update_delete(apig, instance_id):
    body = h.group_body(remark="first remark")
    created = apig.create_api_group_v2(CreateApiGroupV2Request(instance_id=instance_id, body=body))
    assert created.status_code in (200, 201)
    raw = h.body_of(created)
    assert h.is_hex32(raw["id"]), raw
    assert raw["name"] == body.name and raw["remark"] == "first remark"
    assert h.is_rfc3339_z(raw["register_time"]) and h.is_rfc3339_z(raw["update_time"]), raw
    gid = raw["id"]

    shown = apig.show_details_of_api_group_v2(ShowDetailsOfApiGroupV2Request(instance_id=instance_id, group_id=gid))
    assert shown.id == gid and shown.name == body.name and shown.remark == "first remark"
    assert h.body_of(shown)["register_time"] == raw["register_time"]

    new_name = h.unique("grp_renamed")
    updated = apig.update_api_group_v2(UpdateApiGroupV2Request(
        instance_id=instance_id, group_id=gid, body=ApiGroupBase(name=new_name, remark="second remark")))
    assert updated.id == gid and updated.name == new_name and updated.remark == "second remark"
    assert h.is_rfc3339_z(h.body_of(updated)["update_time"])
    shown = apig.show_details_of_api_group_v2(ShowDetailsOfApiGroupV2Request(instance_id=instance_id, group_id=gid))
    assert (shown.name, shown.remark) == (new_name, "second remark")

    apig.delete_api_group_v2(DeleteApiGroupV2Request(instance_id=instance_id, group_id=gid))
    h.expect_error(lambda: apig.show_details_of_api_group_v2(
        ShowDetailsOfApiGroupV2Request(instance_id=instance_id, group_id=gid)), 404, "APIG.3001")
    h.expect_error(lambda: apig.delete_api_group_v2(
        DeleteApiGroupV2Request(instance_id=instance_id, group_id=gid)), 404, "APIG.3001")


def test_group_list_filters_and_paging(apig, instance_id, new_group):
    prefix = h.unique("lst")
    ids = [new_group(name=f"{prefix}_{i}").id for i in range(3)]

    fuzzy = apig.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id, name=prefix))
    assert (fuzzy.total, fuzzy.size) == (3, 3)
    assert sorted(g.id for g in fuzzy.groups) == sorted(ids)

    exact = apig.list_api_groups_v2(ListApiGroupsV2Request(
        instance_id=instance_id, name=f"{prefix}_1", precise_search="name"))
    assert [g.id for g in exact.groups] == [ids[1]] and exact.total == 1
    # precise search does not match a mere prefix
    none = apig.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id, name=prefix, precise_search="name"))
    assert (none.total, none.size, none.groups) == (0, 0, [])

    by_id = apig.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id, id=ids[2]))
    assert [g.id for g in by_id.groups] == [ids[2]]

    page1 = apig.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id, name=prefix, limit=2, offset=0))
    page2 = apig.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id, name=prefix, limit=2, offset=2))
    assert (page1.total, page1.size, len(page1.groups)) == (3, 2, 2)
    assert (page2.total, page2.size, len(page2.groups)) == (3, 1, 1)
    assert sorted(g.id for g in page1.groups + page2.groups) == sorted(ids)

    everything = apig.list_api_groups_v2(ListApiGroupsV2Request(instance_id=instance_id, limit=500))
    h.assert_times(everything)
    assert everything.total >= 3 and everything.size == len(everything.groups)
    assert set(ids) <= {g.id for g in everything.groups}


def test_check_group_name(apig, instance_id, new_group):
    taken = new_group().name
    free = apig.check_api_groups_v2(CheckApiGroupsV2Request(
        instance_id=instance_id, body=ApiGroupCheck(group_name=h.unique("free"))))
    assert 200 <= free.status_code < 300
    err = h.expect_error_any(lambda: apig.check_api_groups_v2(CheckApiGroupsV2Request(
        instance_id=instance_id, body=ApiGroupCheck(group_name=taken))), (400, 409))
    assert err.error_code.startswith("APIG.")


# ------------------------------------------------------------------------------------ environments


def test_release_environment_is_builtin(apig, instance_id):
    envs = apig.list_environments_v2(ListEnvironmentsV2Request(instance_id=instance_id, limit=500))
    h.assert_times(envs)
    release = [e for e in envs.envs if e.id == h.RELEASE_ENV_ID]
    assert len(release) == 1, [(e.id, e.name) for e in envs.envs]
    assert release[0].name == h.RELEASE_ENV_NAME
    by_name = apig.list_environments_v2(ListEnvironmentsV2Request(instance_id=instance_id, name="RELEASE"))
    assert h.RELEASE_ENV_ID in [e.id for e in by_name.envs]


def test_environment_create_list_update_delete(apig, instance_id, new_env):
    created = new_env(remark="staging env")
    raw = h.body_of(created)
    assert h.is_hex32(raw["id"]) and raw["remark"] == "staging env", raw
    assert h.is_rfc3339_z(raw["create_time"]), raw
    eid, name = raw["id"], raw["name"]

    listed = apig.list_environments_v2(ListEnvironmentsV2Request(instance_id=instance_id, name=name))
    assert [e.id for e in listed.envs] == [eid] and listed.total == 1 and listed.size == 1

    new_name = h.unique("env_renamed")
    upd = apig.update_environment_v2(UpdateEnvironmentV2Request(
        instance_id=instance_id, env_id=eid, body=EnvCreate(name=new_name, remark="renamed")))
    assert (upd.id, upd.name, upd.remark) == (eid, new_name, "renamed")
    listed = apig.list_environments_v2(ListEnvironmentsV2Request(instance_id=instance_id, name=new_name))
    assert [(e.id, e.remark) for e in listed.envs] == [(eid, "renamed")]

    apig.delete_environment_v2(DeleteEnvironmentV2Request(instance_id=instance_id, env_id=eid))
    listed = apig.list_environments_v2(ListEnvironmentsV2Request(instance_id=instance_id, name=new_name))
    assert listed.total == 0 and listed.envs == []
    h.expect_error(lambda: apig.delete_environment_v2(
        DeleteEnvironmentV2Request(instance_id=instance_id, env_id=eid)), 404)


def test_environment_paging(apig, instance_id, new_env):
    prefix = h.unique("envpg")
    ids = [new_env(name=f"{prefix}_{i}").id for i in range(3)]
    p1 = apig.list_environments_v2(ListEnvironmentsV2Request(instance_id=instance_id, name=prefix, limit=2))
    p2 = apig.list_environments_v2(ListEnvironmentsV2Request(instance_id=instance_id, name=prefix, limit=2, offset=2))
    assert (p1.total, p1.size, p2.total, p2.size) == (3, 2, 3, 1)
    assert sorted(e.id for e in p1.envs + p2.envs) == sorted(ids)


def test_duplicate_environment_name_conflicts(apig, instance_id, new_env):
    name = new_env().name
    h.expect_error(lambda: new_env(name=name), 409)


def test_release_environment_cannot_be_deleted(apig, instance_id):
    err = h.expect_error_any(lambda: apig.delete_environment_v2(
        DeleteEnvironmentV2Request(instance_id=instance_id, env_id=h.RELEASE_ENV_ID)), (400, 403, 409))
    assert err.error_code.startswith("APIG.")
    envs = apig.list_environments_v2(ListEnvironmentsV2Request(instance_id=instance_id, limit=500))
    assert h.RELEASE_ENV_ID in [e.id for e in envs.envs]


# ------------------------------------------------------------------------------------ env variables


def test_environment_variable_crud(apig, instance_id, new_group, new_env):
    gid, eid = new_group().id, new_env().id
    body = EnvVariableCreate(variable_value="backend.internal:8080", env_id=eid, group_id=gid,
                             variable_name="Backend_Host")
    created = apig.create_environment_variable_v2(CreateEnvironmentVariableV2Request(
        instance_id=instance_id, body=body))
    h.assert_fields_match(body, created)
    vid = created.id
    assert h.is_hex32(vid)

    other = apig.create_environment_variable_v2(CreateEnvironmentVariableV2Request(
        instance_id=instance_id, body=EnvVariableCreate(variable_value="v2", env_id=eid, group_id=gid,
                                                        variable_name="Other_Var")))

    shown = apig.show_details_of_environment_variable_v2(ShowDetailsOfEnvironmentVariableV2Request(
        instance_id=instance_id, env_variable_id=vid))
    h.assert_fields_match(body, shown)
    assert shown.id == vid

    listed = apig.list_environment_variables_v2(ListEnvironmentVariablesV2Request(
        instance_id=instance_id, group_id=gid))
    assert (listed.total, listed.size) == (2, 2)
    assert sorted(v.id for v in listed.variables) == sorted([vid, other.id])
    only = apig.list_environment_variables_v2(ListEnvironmentVariablesV2Request(
        instance_id=instance_id, group_id=gid, env_id=eid, variable_name="Backend_Host", precise_search="variable_name"))
    assert [v.id for v in only.variables] == [vid]
    paged = apig.list_environment_variables_v2(ListEnvironmentVariablesV2Request(
        instance_id=instance_id, group_id=gid, limit=1, offset=1))
    assert (paged.total, paged.size) == (2, 1)

    upd = apig.update_environment_variable_v2(UpdateEnvironmentVariableV2Request(
        instance_id=instance_id, env_variable_id=vid, body=EnvVariableBase(variable_value="backend.v2:9090")))
    assert (upd.id, upd.variable_value, upd.variable_name, upd.env_id, upd.group_id) == (
        vid, "backend.v2:9090", "Backend_Host", eid, gid)

    apig.delete_environment_variable_v2(DeleteEnvironmentVariableV2Request(instance_id=instance_id, env_variable_id=vid))
    h.expect_error(lambda: apig.show_details_of_environment_variable_v2(ShowDetailsOfEnvironmentVariableV2Request(
        instance_id=instance_id, env_variable_id=vid)), 404)
    listed = apig.list_environment_variables_v2(ListEnvironmentVariablesV2Request(instance_id=instance_id, group_id=gid))
    assert [v.id for v in listed.variables] == [other.id]


def test_environment_variable_duplicate_and_invalid(apig, instance_id, new_group, new_env):
    gid, eid = new_group().id, new_env().id

    def create(name, value="x1"):
        return apig.create_environment_variable_v2(CreateEnvironmentVariableV2Request(
            instance_id=instance_id, body=EnvVariableCreate(variable_value=value, env_id=eid, group_id=gid,
                                                            variable_name=name)))

    create("Dup_Var")
    h.expect_error(lambda: create("Dup_Var"), 409)
    h.expect_error(lambda: create("ab"), 400, "APIG.2011")          # name shorter than 3
    h.expect_error(lambda: create("9starts_with_digit"), 400, "APIG.2011")
    h.expect_error(lambda: create("Good_Name", value="has space"), 400, "APIG.2011")
    h.expect_error(lambda: apig.create_environment_variable_v2(CreateEnvironmentVariableV2Request(
        instance_id=instance_id, body=EnvVariableCreate(variable_value="v", env_id=eid, group_id="0" * 32,
                                                        variable_name="Orphan_Var"))), 404, "APIG.3001")
