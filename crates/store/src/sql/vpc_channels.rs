//! [`VpcChannelStore`]: VPC channels and their members.

use async_trait::async_trait;
use portico_model::{MemberChange, Page, Paged, VpcChannel};
use sqlx::QueryBuilder;
use time::OffsetDateTime;

use super::{Engine, SqlStore, to_doc, unique_or};
use crate::policy_types::*;
use crate::{ChannelUpdate, Conflict, Kind, Result, StoreError, VpcChannelStore};

impl<DB> SqlStore<DB>
where
    DB: Engine,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q String: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Decode<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i32: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'s> &'s str: sqlx::ColumnIndex<DB::Row>,
{
    /// `ListApisV2`'s `vpc_channel_name`: APIs referring to the channel of that name.
    pub(super) fn push_vpc_channel_filter(q: &mut QueryBuilder<DB>, channel_name: &str) {
        q.push(
            " AND EXISTS (SELECT 1 FROM api_refs r JOIN vpc_channels c ON c.id = r.ref_id \
             WHERE r.api_id = apis.id AND r.kind = 'vpc_channel' AND c.name = ",
        )
        .push_bind(channel_name.to_string())
        .push(")");
    }
}

#[async_trait]
impl<DB> VpcChannelStore for SqlStore<DB>
where
    DB: Engine,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'q> &'q str: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q String: sqlx::Encode<'q, DB>,
    for<'q> Option<String>: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> Option<&'q str>: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> &'q str: sqlx::Decode<'q, DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> bool: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    for<'q> i32: sqlx::Encode<'q, DB> + sqlx::Decode<'q, DB> + sqlx::Type<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    for<'s> &'s str: sqlx::ColumnIndex<DB::Row>,
{
    async fn create_vpc_channel(&self, instance_id: &str, channel: &VpcChannel) -> Result<()> {
        let mut tx = self.write().await?;
        sqlx::query("INSERT INTO vpc_channels (id, instance_id, name, doc) VALUES ($1, $2, $3, $4)")
            .bind(&channel.id)
            .bind(instance_id)
            .bind(&channel.name)
            .bind(to_doc(channel)?)
            .execute(&mut *tx)
            .await
            .map_err(|e| unique_or(e, Conflict::VpcChannelName(channel.name.clone())))?;
        self.commit(tx).await
    }

    async fn update_vpc_channel(&self, instance_id: &str, id: &str, build: &ChannelUpdate<'_>) -> Result<VpcChannel> {
        let mut tx = self.write().await?;
        let previous: VpcChannel = Self::doc_in(&mut *tx, "vpc_channels", Kind::VpcChannel, instance_id, id).await?;
        let channel = build(&previous)?;
        let doc = (channel.id.as_str(), channel.name.as_str(), to_doc(&channel)?);
        let conflict = Conflict::VpcChannelName(channel.name.clone());
        Self::update_named_doc(&mut tx, "vpc_channels", Kind::VpcChannel, instance_id, doc, conflict).await?;
        self.commit(tx).await?;
        Ok(channel)
    }

    async fn change_vpc_members(
        &self,
        instance_id: &str,
        channel_id: &str,
        change: MemberChange,
        now: OffsetDateTime,
    ) -> Result<VpcChannel> {
        let mut tx = self.write().await?;
        let mut channel: VpcChannel =
            Self::doc_in(&mut *tx, "vpc_channels", Kind::VpcChannel, instance_id, channel_id).await?;
        let removed = match &change {
            MemberChange::Remove(id) => Some(id.clone()),
            _ => None,
        };
        if !channel.change_members(change, now)? {
            return Err(StoreError::not_found(Kind::VpcMember, &removed.unwrap_or_default()));
        }
        sqlx::query("UPDATE vpc_channels SET doc = $1 WHERE instance_id = $2 AND id = $3")
            .bind(to_doc(&channel)?)
            .bind(instance_id)
            .bind(channel_id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await?;
        Ok(channel)
    }

    async fn vpc_channel(&self, instance_id: &str, id: &str) -> Result<VpcChannel> {
        Self::doc_in(&self.pool, "vpc_channels", Kind::VpcChannel, instance_id, id).await
    }

    async fn list_vpc_channels(
        &self,
        instance_id: &str,
        filter: &VpcChannelFilter,
        page: Page,
    ) -> Result<Paged<VpcChannel>> {
        let filters = |q: &mut QueryBuilder<DB>| {
            q.push(" WHERE instance_id = ").push_bind(instance_id.to_string());
            if let Some(id) = &filter.id {
                q.push(" AND id = ").push_bind(id.clone());
            }
            if let Some(name) = &filter.name {
                Self::push_text_filter(q, "name", name);
            }
            let members =
                [("host", filter.member_host.clone()), ("port", filter.member_port.map(|port| port.to_string()))];
            for (key, value) in members {
                if let Some(v) = value {
                    q.push(format!(" AND {}", DB::json_array_has("vpc_channels.doc", Some("members"), Some(key))))
                        .push_bind(v)
                        .push(")");
                }
            }
            for (key, value) in
                [("member_group_name", &filter.member_group_name), ("member_group_id", &filter.member_group_id)]
            {
                if let Some(v) = value {
                    q.push(format!(
                        " AND {}",
                        DB::json_array_has("vpc_channels.doc", Some("member_groups"), Some(key))
                    ))
                    .push_bind(v.clone())
                    .push(")");
                }
            }
        };
        self.paged("doc", "vpc_channels", "seq", filters, page, |r| Self::from_doc(r, "doc")).await
    }

    async fn delete_vpc_channel(&self, instance_id: &str, id: &str) -> Result<()> {
        let mut tx = self.write().await?;
        let _: VpcChannel = Self::doc_in(&mut *tx, "vpc_channels", Kind::VpcChannel, instance_id, id).await?;
        Self::refuse_if_referenced(&mut tx, instance_id, "vpc_channel", "VPC channel", id).await?;
        sqlx::query("DELETE FROM vpc_channels WHERE instance_id = $1 AND id = $2")
            .bind(instance_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx).await
    }
}
