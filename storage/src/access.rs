//! Rights: scopes, what each role may do, and the checks post commands run.
//!
//! Enforcement lives here, in the domain, so every way into a command (HTTP handler, CLI,
//! scheduler) obeys the same rules. A request's rights are its user's role intersected with
//! the scopes of the API token it used, so a token never exceeds its owner.

use serde::{Deserialize, Serialize};
use ulid::Ulid;

use crate::post::{Post, Status};
use crate::users::Role;
use crate::{Error, Result};

/// One right an API token can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// Read posts, their history and the event log.
    #[serde(rename = "posts:read")]
    PostsRead,
    /// Create and edit posts (drafts).
    #[serde(rename = "posts:write")]
    PostsWrite,
    /// Publish, schedule, unpublish, and delete published posts.
    #[serde(rename = "posts:publish")]
    PostsPublish,
    /// Upload media.
    #[serde(rename = "media:write")]
    MediaWrite,
    /// Manage users and everyone's tokens.
    #[serde(rename = "admin")]
    Admin,
}

impl Scope {
    /// Every scope.
    pub const ALL: [Scope; 5] = [
        Self::PostsRead,
        Self::PostsWrite,
        Self::PostsPublish,
        Self::MediaWrite,
        Self::Admin,
    ];

    /// The name used in the API (`posts:write`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PostsRead => "posts:read",
            Self::PostsWrite => "posts:write",
            Self::PostsPublish => "posts:publish",
            Self::MediaWrite => "media:write",
            Self::Admin => "admin",
        }
    }
}

impl std::str::FromStr for Scope {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::ALL.into_iter().find(|scope| scope.as_str() == s).ok_or_else(|| {
            Error::invalid(
                "scopes",
                format!("{s:?} is not a scope; use posts:read, posts:write, posts:publish, media:write or admin"),
            )
        })
    }
}

impl Role {
    /// The scopes a role grants.
    pub fn scopes(self) -> Vec<Scope> {
        use Scope::*;
        match self {
            Role::Admin => Scope::ALL.to_vec(),
            Role::Editor | Role::Author => vec![PostsRead, PostsWrite, PostsPublish, MediaWrite],
            Role::Contributor => vec![PostsRead, PostsWrite],
        }
    }

    /// Whether the role may change other users' posts.
    pub fn edits_everyones_posts(self) -> bool {
        matches!(self, Role::Admin | Role::Editor)
    }
}

/// Who is acting, and with which rights.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Ulid,
    pub username: String,
    pub role: Role,
    /// The rights of this request: the role's scopes, narrowed by an API token's.
    pub scopes: Vec<Scope>,
    /// Where the request came from (`micropub`) and the client's name, recorded on its events.
    pub origin: Option<crate::event::Origin>,
}

impl Actor {
    /// A user acting with all the rights of their role.
    pub fn user(user_id: Ulid, username: impl Into<String>, role: Role) -> Self {
        Self {
            user_id,
            username: username.into(),
            role,
            scopes: role.scopes(),
            origin: None,
        }
    }

    /// The same actor, recording `source` (and the client's name) on the events it causes.
    pub fn with_origin(self, source: &str, client: Option<String>) -> Self {
        Self {
            origin: Some(crate::event::Origin::client(source, client)),
            ..self
        }
    }

    /// Quire itself (the scheduler, imports): every right.
    pub fn system(name: impl Into<String>) -> Self {
        Self::user(Ulid::nil(), name, Role::Admin)
    }

    /// Fails with `Forbidden` naming `scope` unless the actor has it.
    pub fn require(&self, scope: Scope) -> Result<()> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(Error::Forbidden {
                missing: scope.as_str().into(),
                message: format!(
                    "this needs the {} right, which this user or token does not have",
                    scope.as_str()
                ),
            })
        }
    }

    /// May the actor know that `post` exists? Published, live posts are everyone's to see;
    /// drafts, scheduled and deleted posts only their author's and those of editors and admins
    /// (as in Ghost: a contributor does not see other people's drafts). Scopes are not
    /// considered here: a write-only token still knows its own posts.
    pub fn may_see(&self, post: &Post) -> bool {
        self.role.edits_everyones_posts()
            || post.author == self.username
            || (post.status == Status::Published && post.is_live())
    }

    /// May the actor read `post`'s content: the `posts:read` right and [`Actor::may_see`].
    pub fn may_read(&self, post: &Post) -> bool {
        self.scopes.contains(&Scope::PostsRead) && self.may_see(post)
    }

    /// May the actor read every post, drafts included (the event log, other people's drafts)?
    pub fn reads_everything(&self) -> bool {
        self.scopes.contains(&Scope::PostsRead) && self.role.edits_everyones_posts()
    }

    /// Fails unless the actor reads every post (the event log carries every draft).
    pub fn require_read_all(&self) -> Result<()> {
        self.require(Scope::PostsRead)?;
        if self.role.edits_everyones_posts() {
            Ok(())
        } else {
            Err(Error::Forbidden {
                missing: "read-all-posts".into(),
                message: "the event log holds everyone's drafts; only editors and admins read it".into(),
            })
        }
    }

    /// May the actor change `post` at all (write right plus ownership)?
    pub fn check_may_edit(&self, post: &Post) -> Result<()> {
        self.require(Scope::PostsWrite)?;
        if post.author != self.username && !self.role.edits_everyones_posts() {
            return Err(Error::Forbidden {
                missing: "edit-others-posts".into(),
                message: format!(
                    "post {} belongs to {}; only editors and admins change others' posts",
                    post.id, post.author
                ),
            });
        }
        if !self.scopes.contains(&Scope::PostsPublish) && post.status != Status::Draft {
            return Err(Error::Forbidden {
                missing: Scope::PostsPublish.as_str().into(),
                message: "only drafts can be changed without the posts:publish right".into(),
            });
        }
        Ok(())
    }

    /// Moving a post to `status` needs `posts:publish` unless it stays a draft.
    pub fn check_may_set_status(&self, status: Status) -> Result<()> {
        match status {
            Status::Draft => Ok(()),
            Status::Published | Status::Scheduled => self.require(Scope::PostsPublish),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_grant_the_documented_scopes() {
        assert!(Role::Admin.scopes().contains(&Scope::Admin));
        assert!(!Role::Editor.scopes().contains(&Scope::Admin));
        assert!(!Role::Contributor.scopes().contains(&Scope::PostsPublish));
        assert_eq!("posts:write".parse::<Scope>().expect("scope"), Scope::PostsWrite);
        assert!("posts:all".parse::<Scope>().is_err());
    }
}
