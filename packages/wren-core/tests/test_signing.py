

def test_derived_keys_are_stable_distinct_and_need_the_parent():
    from wren.protocol.signing import derive_key, new_key

    parent, other = new_key(), new_key()
    assert derive_key(parent, "a") == derive_key(parent, "a")
    assert derive_key(parent, "a") != derive_key(parent, "b")
    assert derive_key(parent, "a") != derive_key(other, "a")
    assert len(derive_key(parent, "a")) == len(parent)
