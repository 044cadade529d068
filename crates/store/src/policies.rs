//! The policy families of the store, one trait each: apps (with AppCodes and authorizations),
//! request throttling policies (with specials), ACL policies, their bindings to publish records,
//! custom authorizers, VPC channels, signature keys and gateway responses.
//!
//! Each is a supertrait of [`crate::Store`], so every engine implements it and every caller
//! holding a `dyn Store` can use it; each lives apart so that a family can grow without
//! touching the core trait, and its SQL is in `sql/<family>.rs`.
//!
//! Deleting a policy that is still bound to publish records is refused
//! ([`Conflict::PolicyBound`](crate::Conflict::PolicyBound)); taking an API offline, or
//! deleting it, removes its bindings and authorizations in the same transaction.

use async_trait::async_trait;
use std::collections::HashMap;

use portico_model::{
    Acl, App, AppCode, AppSecret, AppWithSecret, Authorizer, DeclaredPolicies, GatewayResponse, MemberChange, Page,
    Paged, PolicySet, Signature, Throttle, ThrottleSpecial, VpcChannel,
};
use time::OffsetDateTime;

use crate::policy_types::*;
use crate::{Result, TextMatch};

/// How [`VpcChannelStore::update_vpc_channel`] makes the new channel from the stored one.
pub type ChannelUpdate<'a> =
    dyn Fn(&VpcChannel) -> std::result::Result<VpcChannel, portico_model::FieldError> + Send + Sync + 'a;
/// How [`GatewayResponseStore::update_gateway_response`] changes the stored response.
pub type ResponseUpdate<'a> = dyn Fn(&mut GatewayResponse) + Send + Sync + 'a;

/// Apps, their AppCodes and their authorizations for published APIs.
#[async_trait]
pub trait AppStore: Send + Sync {
    /// Creates an app; its secret is stored sealed. Conflict: the name is taken in the
    /// instance, or the key anywhere.
    async fn create_app(&self, instance_id: &str, app: &App, secret: &AppSecret) -> Result<()>;
    /// Replaces an app's fields and, if given, its secret; returns the app with its secret.
    async fn update_app(&self, instance_id: &str, app: &App, secret: Option<&AppSecret>) -> Result<AppWithSecret>;
    /// An app with its secret in clear.
    async fn app(&self, instance_id: &str, id: &str) -> Result<AppWithSecret>;
    /// Apps of the instance with their authorization counts.
    async fn list_apps(&self, instance_id: &str, filter: &AppFilter, page: Page) -> Result<Paged<AppSummary>>;
    /// Deletes an app with its AppCodes, authorizations and special throttles.
    async fn delete_app(&self, instance_id: &str, id: &str) -> Result<()>;
    /// The app with this key, anywhere, with its instance id and its secret in clear: what
    /// the data plane checks an app signature with.
    async fn app_by_key(&self, app_key: &str) -> Result<(String, AppWithSecret)>;
    /// The app owning this AppCode, anywhere, with its instance id.
    async fn app_by_code(&self, app_code: &str) -> Result<(String, App)>;
    /// Whether `app_id` is authorized for `api_id` in `env_id`.
    async fn app_authorized(&self, instance_id: &str, app_id: &str, api_id: &str, env_id: &str) -> Result<bool>;

    /// Adds an AppCode to an app. NotFound: the app. Conflict: the code exists.
    async fn create_app_code(&self, instance_id: &str, code: &AppCode) -> Result<()>;
    /// AppCodes of an app, oldest first.
    async fn list_app_codes(&self, instance_id: &str, app_id: &str, page: Page) -> Result<Paged<AppCode>>;
    /// One AppCode of an app.
    async fn app_code(&self, instance_id: &str, app_id: &str, id: &str) -> Result<AppCode>;
    /// Deletes an AppCode of an app.
    async fn delete_app_code(&self, instance_id: &str, app_id: &str, id: &str) -> Result<()>;

    /// Authorizes each app for each API published in `env_id`, in one transaction; pairs
    /// that fail (app missing, API not published there, already authorized) are reported
    /// and the others are granted. NotFound: the environment.
    async fn authorize_apps(
        &self,
        instance_id: &str,
        env_id: &str,
        app_ids: &[String],
        api_ids: &[String],
        now: OffsetDateTime,
    ) -> Result<AuthOutcome>;
    /// Revokes an authorization.
    async fn delete_app_auth(&self, instance_id: &str, id: &str) -> Result<()>;
    /// Authorizations with their apps and APIs.
    async fn list_app_auths(
        &self,
        instance_id: &str,
        filter: &AppAuthFilter,
        page: Page,
    ) -> Result<Paged<AppAuthEntry>>;
    /// Published APIs the app is not authorized for. NotFound: the app.
    async fn list_apis_unbound_to_app(
        &self,
        instance_id: &str,
        app_id: &str,
        filter: &PublishedApiFilter,
        page: Page,
    ) -> Result<Paged<PublishedApi>>;
}

/// Request throttling policies and their special throttles.
#[async_trait]
pub trait ThrottleStore: Send + Sync {
    /// Creates a throttling policy. Conflict: the name is taken.
    async fn create_throttle(&self, instance_id: &str, throttle: &Throttle) -> Result<()>;
    /// Replaces a throttling policy. Conflict: the new name is taken.
    async fn update_throttle(&self, instance_id: &str, throttle: &Throttle) -> Result<ThrottleSummary>;
    /// A throttling policy with its binding count.
    async fn throttle(&self, instance_id: &str, id: &str) -> Result<ThrottleSummary>;
    /// Throttling policies of the instance.
    async fn list_throttles(
        &self,
        instance_id: &str,
        id: Option<&str>,
        name: Option<&TextMatch>,
        page: Page,
    ) -> Result<Paged<ThrottleSummary>>;
    /// Deletes a throttling policy and its specials. Conflict: it is bound.
    async fn delete_throttle(&self, instance_id: &str, id: &str) -> Result<()>;

    /// Adds a special throttle; for `APP` the app must exist and names the object.
    /// NotFound: the policy or the app. Conflict: the object already has one.
    async fn create_special(&self, instance_id: &str, special: &ThrottleSpecial) -> Result<ThrottleSpecial>;
    /// Changes a special throttle's limit.
    async fn update_special(
        &self,
        instance_id: &str,
        throttle_id: &str,
        id: &str,
        call_limits: i64,
    ) -> Result<ThrottleSpecial>;
    /// Special throttles of a policy. NotFound: the policy.
    async fn list_specials(
        &self,
        instance_id: &str,
        throttle_id: &str,
        filter: &SpecialFilter,
        page: Page,
    ) -> Result<Paged<ThrottleSpecial>>;
    /// Deletes a special throttle.
    async fn delete_special(&self, instance_id: &str, throttle_id: &str, id: &str) -> Result<()>;
}

/// Access control policies.
#[async_trait]
pub trait AclStore: Send + Sync {
    /// Creates an ACL policy. Conflict: the name is taken.
    async fn create_acl(&self, instance_id: &str, acl: &Acl) -> Result<()>;
    /// Replaces an ACL policy. Conflict: the new name is taken.
    async fn update_acl(&self, instance_id: &str, acl: &Acl) -> Result<AclSummary>;
    /// An ACL policy with its binding count.
    async fn acl(&self, instance_id: &str, id: &str) -> Result<AclSummary>;
    /// ACL policies of the instance.
    async fn list_acls(&self, instance_id: &str, filter: &AclFilter, page: Page) -> Result<Paged<AclSummary>>;
    /// Deletes ACL policies, each on its own merits, in one transaction. NotFound or
    /// Conflict (bound) per policy.
    async fn delete_acls(&self, instance_id: &str, ids: &[String]) -> Result<Vec<(String, Result<()>)>>;
}

/// Throttling policies, ACLs and signature keys bound to publish records.
#[async_trait]
pub trait BindingStore: Send + Sync {
    /// Binds a policy to publish records, all or nothing. NotFound: the policy or a publish
    /// record. Conflict: a record already has a policy of this kind.
    async fn bind_policy(
        &self,
        instance_id: &str,
        kind: PolicyKind,
        policy_id: &str,
        publish_ids: &[String],
        now: OffsetDateTime,
    ) -> Result<Vec<PolicyBinding>>;
    /// Removes bindings of this kind, each on its own merits, in one transaction.
    async fn unbind_policies(
        &self,
        instance_id: &str,
        kind: PolicyKind,
        binding_ids: &[String],
    ) -> Result<Vec<(String, Result<()>)>>;
    /// Published APIs bound to the policy. NotFound: the policy.
    async fn list_bound_apis(
        &self,
        instance_id: &str,
        kind: PolicyKind,
        policy_id: &str,
        filter: &PublishedApiFilter,
        page: Page,
    ) -> Result<Paged<BoundApi>>;
    /// Published APIs with no policy of this kind. NotFound: the policy.
    async fn list_unbound_apis(
        &self,
        instance_id: &str,
        kind: PolicyKind,
        policy_id: &str,
        filter: &PublishedApiFilter,
        page: Page,
    ) -> Result<Paged<PublishedApi>>;
    /// Policies of this kind bound to an API.
    async fn list_bound_policies(
        &self,
        instance_id: &str,
        kind: PolicyKind,
        api_id: &str,
        filter: &BoundPolicyFilter,
        page: Page,
    ) -> Result<Paged<BoundPolicy>>;

    /// The throttling policies (with their specials) and ACLs bound to `api_ids` published in
    /// `env_id`, each once, in the order they were first bound (`gateway_responses` stays
    /// empty); and per API id, the names of those bound to it.
    async fn bound_policies(
        &self,
        instance_id: &str,
        env_id: &str,
        api_ids: &[String],
    ) -> Result<(PolicySet, HashMap<String, DeclaredPolicies>)>;
}

/// Custom authorizers.
#[async_trait]
pub trait AuthorizerStore: Send + Sync {
    /// Creates a custom authorizer. Conflict: the name is taken.
    async fn create_authorizer(&self, instance_id: &str, authorizer: &Authorizer) -> Result<()>;
    /// Replaces a custom authorizer. Conflict: the name is taken, or the type would change.
    async fn update_authorizer(&self, instance_id: &str, authorizer: &Authorizer) -> Result<()>;
    /// A custom authorizer.
    async fn authorizer(&self, instance_id: &str, id: &str) -> Result<Authorizer>;
    /// Custom authorizers of the instance.
    async fn list_authorizers(
        &self,
        instance_id: &str,
        filter: &AuthorizerFilter,
        page: Page,
    ) -> Result<Paged<Authorizer>>;
    /// Deletes a custom authorizer. Conflict: an API refers to it.
    async fn delete_authorizer(&self, instance_id: &str, id: &str) -> Result<()>;
}

/// VPC channels and their members.
#[async_trait]
pub trait VpcChannelStore: Send + Sync {
    /// Creates a VPC channel. Conflict: the name is taken.
    async fn create_vpc_channel(&self, instance_id: &str, channel: &VpcChannel) -> Result<()>;
    /// Replaces a VPC channel with what `build` makes of the stored one, in one transaction.
    /// Field: `build` refused. Conflict: the new name is taken.
    async fn update_vpc_channel(&self, instance_id: &str, id: &str, build: &ChannelUpdate<'_>) -> Result<VpcChannel>;
    /// Changes a channel's members in one transaction and returns the channel. NotFound: the
    /// channel, or the member to remove. Field: a member is invalid for this channel.
    async fn change_vpc_members(
        &self,
        instance_id: &str,
        channel_id: &str,
        change: MemberChange,
        now: OffsetDateTime,
    ) -> Result<VpcChannel>;
    /// A VPC channel.
    async fn vpc_channel(&self, instance_id: &str, id: &str) -> Result<VpcChannel>;
    /// VPC channels of the instance.
    async fn list_vpc_channels(
        &self,
        instance_id: &str,
        filter: &VpcChannelFilter,
        page: Page,
    ) -> Result<Paged<VpcChannel>>;
    /// Deletes a VPC channel. Conflict: an API refers to it.
    async fn delete_vpc_channel(&self, instance_id: &str, id: &str) -> Result<()>;
}

/// Signature keys.
#[async_trait]
pub trait SignatureStore: Send + Sync {
    /// Creates a signature key; its secret is stored sealed. Conflict: the name is taken.
    async fn create_signature(&self, instance_id: &str, signature: &Signature) -> Result<()>;
    /// Replaces a signature key. Conflict: the new name is taken.
    async fn update_signature(&self, instance_id: &str, signature: &Signature) -> Result<SignatureSummary>;
    /// A signature key with its secret and binding count.
    async fn signature(&self, instance_id: &str, id: &str) -> Result<SignatureSummary>;
    /// Signature keys of the instance.
    async fn list_signatures(
        &self,
        instance_id: &str,
        id: Option<&str>,
        name: Option<&TextMatch>,
        page: Page,
    ) -> Result<Paged<SignatureSummary>>;
    /// Deletes a signature key. Conflict: it is bound.
    async fn delete_signature(&self, instance_id: &str, id: &str) -> Result<()>;
}

/// The gateway responses of a group.
#[async_trait]
pub trait GatewayResponseStore: Send + Sync {
    /// Creates a gateway response. NotFound: its group. Conflict: the name is taken there.
    async fn create_gateway_response(&self, instance_id: &str, response: &GatewayResponse) -> Result<()>;
    /// Changes a gateway response of a group with `change`, in one transaction, and returns it.
    /// Conflict: the new name is taken.
    async fn update_gateway_response(
        &self,
        instance_id: &str,
        group_id: &str,
        id: &str,
        change: &ResponseUpdate<'_>,
    ) -> Result<GatewayResponse>;
    /// A gateway response of a group.
    async fn gateway_response(&self, instance_id: &str, group_id: &str, id: &str) -> Result<GatewayResponse>;
    /// Gateway responses of a group. NotFound: the group.
    async fn list_gateway_responses(
        &self,
        instance_id: &str,
        group_id: &str,
        page: Page,
    ) -> Result<Paged<GatewayResponse>>;
    /// Deletes a gateway response. Conflict: an API refers to it.
    async fn delete_gateway_response(&self, instance_id: &str, group_id: &str, id: &str) -> Result<()>;
}
