using RLWorkbench.Gym.Spaces;

namespace RLWorkbench.Gym.Tests;

public class SpaceTests
{
    [Fact]
    public void A_box_knows_its_shape_bounds_and_clips_into_them()
    {
        var box = new Box(0f, 1f, 3, 4);
        Assert.Equal([3, 4], box.Shape);
        Assert.Equal(12, box.FlatSize);
        var value = new float[12];
        value[0] = -0.5f;
        value[1] = 1.5f;
        value[2] = 0.25f;
        Assert.False(box.Contains(value));
        var clipped = new float[12];
        box.Clip(value, clipped);
        Assert.Equal([0f, 1f, 0.25f], clipped[..3]);
        Assert.True(box.Contains(clipped));
    }

    [Fact]
    public void A_box_with_per_element_bounds_checks_each_element()
    {
        var box = new Box([0f, -2f], [1f, 2f]);
        Assert.True(box.Contains([0.5f, -1.5f]));
        Assert.False(box.Contains([0.5f, -2.5f]));
        Assert.False(box.Contains([0.5f]));
        Assert.False(box.Contains([float.NaN, 0f]));
    }

    [Fact]
    public void Inverted_or_empty_boxes_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new Box(1f, 0f, 2));
        Assert.Throws<ArgumentException>(() => new Box(0f, 1f));
        Assert.Throws<ArgumentException>(() => new Box(0f, 1f, 0));
        Assert.Throws<ArgumentException>(() => new Box([0f, 1f], [1f]));
    }

    [Fact]
    public void Discrete_holds_the_integers_below_n_as_one_float()
    {
        var space = new Discrete(8);
        Assert.Equal(1, space.FlatSize);
        Assert.True(space.Contains([0f]));
        Assert.True(space.Contains([7f]));
        Assert.False(space.Contains([8f]));
        Assert.False(space.Contains([1.5f]));
        Assert.False(space.Contains([-1f]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Discrete(0));
    }
}
