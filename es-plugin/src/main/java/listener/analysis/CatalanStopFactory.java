package listener.analysis;

import org.apache.lucene.analysis.StopFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.ca.CatalanAnalyzer;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Drops Catalan stop words, the default set of Lucene's CatalanAnalyzer. Expects lowercase tokens. */
@NamedComponent("listener_stop_ca")
public final class CatalanStopFactory implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream input) {
        return new StopFilter(input, CatalanAnalyzer.getDefaultStopSet());
    }
}
