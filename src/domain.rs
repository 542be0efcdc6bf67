//! Vocabulary shared by more than one resource, kept below them so that no
//! resource imports another for a type.

text_enum! {
    /// How the contact happened (shared with complaints).
    pub enum Channel {
        Email = "email", Phone = "phone", Meeting = "meeting", Chat = "chat", Social = "social",
        MobileApp = "mobile_app", Web = "web", Letter = "letter", InStore = "in_store", Other = "other",
    }
}
